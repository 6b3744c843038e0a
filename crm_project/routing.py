"""WebSocket routes: one socket per client at /ws/ (the token comes in the query or a header)."""

from django.urls import re_path

from messaging.consumers import ChatConsumer

# (django-stubs types a route's target as a view; Channels routes ASGI applications with the same re_path)
websocket_urlpatterns = [re_path(r"^ws/?$", ChatConsumer.as_asgi())]  # type: ignore[arg-type]
