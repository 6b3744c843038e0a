"""ASGI as this code handles it: a scope and its messages are mappings of plain values, as Django's handler
types them (Channels' TypedDict scopes are mappings too)."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

Scope: TypeAlias = Mapping[str, Any]
Message: TypeAlias = Mapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
# Any ASGI application: Django's types its arguments as above, Channels' as asgiref's TypedDicts.
ASGIApp: TypeAlias = Callable[[Any, Any, Any], Awaitable[None]]
