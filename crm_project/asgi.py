"""ASGI entry point: HTTP through Django, WebSockets through Channels (served by daphne)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")

import django  # noqa: E402

django.setup(set_prefix=False)

from core.handlers import ASGIHandler  # noqa: E402

# Django's handler with a sync middleware chain: one thread handoff per request (core/handlers.py).
django_asgi_app = ASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from crm_project.routing import websocket_urlpatterns  # noqa: E402
from messaging.socket.auth import JWTAuthMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(JWTAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
