"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Served in production by granian (`crm_project.serve`), in development by daphne (`manage.py
runserver`); `core.edge` adapts what differs between the two (docs/operations.md)."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")

import django

django.setup(set_prefix=False)

from core.handlers import ASGIHandler  # noqa: E402

# Django's handler with a sync middleware chain: one thread handoff per request (core/handlers.py).
django_asgi_app = ASGIHandler()

import autobahn.util  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

# When daphne serves (development, the harness's reference; "daphne" in INSTALLED_APPS imports it anyway):
# autobahn (daphne's WebSocket engine) colours the arguments of its debug log lines with click
# on every frame it sends, even with debug logging off: a fifth of the Python a pushed frame costs.
autobahn.util._HAS_CLICK = False

from daphne.http_protocol import WebRequest  # noqa: E402

# Twisted parses every multipart POST body into `request.args` before daphne hands the body to
# Django, which parses it again; daphne never reads those args, and a body Twisted could not parse
# was answered with an empty 400 instead of the API's error shape.
# (Twisted sets the flag per request in __init__: a property that ignores the assignment wins.)
WebRequest._parsePOSTFormSubmission = property(lambda request: False, lambda request, value: None)

from crm_project import daphne_close  # noqa: E402

daphne_close.install()  # close reasons, and a refused handshake's status from its close code

from django.urls import get_resolver  # noqa: E402

from core.edge import Edge  # noqa: E402
from crm_project.routing import websocket_urlpatterns  # noqa: E402
from messaging.socket.auth import socket_auth  # noqa: E402

# Edge: the client's address and scheme (trusted proxies only) and the access log, for both protocols;
# the lifespan and the graceful shutdown on SIGTERM (granian).
application = Edge(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": socket_auth(URLRouter(websocket_urlpatterns)),  # type: ignore[arg-type]  # as routing.py
        }
    )
)


# Collect young objects every 50,000 allocations instead of Python's 700. The cyclic
# collector pauses the whole process (every socket of it): each pass over the young objects took
# 5-13 ms with a thousand sockets open, and the objects it promoted set off a full collection
# every few seconds (140 ms). Almost everything a request or a frame allocates is freed by
# reference counting before a collection comes (docs/performance.md: what little made cycles was
# removed), so rarer collections cost little memory and promote far less.
GC_THRESHOLDS = (50_000, 20, 20)


def tune_garbage_collector() -> None:
    """Keep what is loaded by now (modules, URLs, views, serializers: objects that live as long
    as the process) out of the garbage collector's full collections, which otherwise scan them
    all (a 45 ms pause every few hundred requests), and collect less often (GC_THRESHOLDS)."""
    get_resolver().url_patterns  # noqa: B018 - read for its effect: the URLconf and every view it imports
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


tune_garbage_collector()
