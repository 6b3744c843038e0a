"""Django's ASGI handler, run the way our sync stack wants.

Stock Django, measured on the history page (bench/messaging_bench.py), spent more CPU
on moving each request between threads than on the view:

- It builds an async middleware chain under ASGI. Our middleware and views are sync
  (DRF, WhiteNoise, sessions, CSRF...), so a request crossed between the event loop and a
  worker thread for every middleware hook, and again for the view. Here the chain is
  sync and runs in one worker thread, as under WSGI: one handoff per request.
- It starts a new thread for every request (and another to join it), so with 32
  requests in flight 32 threads fought over the GIL. Here a request borrows one of
  WEB_THREADS single-thread executors (at most the database pool's size) and waits for
  one when all are busy. Thread-sensitive as before: a request's queries, its
  `request_finished` clean-up and its database connection stay on one thread.
- It enters that thread three times (request_started, the response, request_finished).
  Here once: a response whose body is complete is closed (request_finished: the
  database connection goes back to the pool) before its bytes are sent. Streaming
  responses are sent first and closed after, as in Django.
- Django also listens for the client going away to cancel async views; a sync view
  runs to its end either way, so that second task per request is not started.
"""

import asyncio
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import IO

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.asgi import ASGIRequest, get_script_prefix
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import set_script_prefix

from core.asgi_types import Receive, Scope, Send


def request_threads() -> int:
    """WEB_THREADS, but never more than the database pool has connections, so a request never
    holds a thread while it waits for a connection."""
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict) and pool.get("max_size"):
        return max(1, min(settings.WEB_THREADS, int(pool["max_size"])))
    return max(1, settings.WEB_THREADS)


class ASGIHandler(DjangoASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._threads = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"request-{n}") for n in range(request_threads())
        ]
        # event loop -> its queue of free executors (daphne runs one)
        self._free: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue[ThreadPoolExecutor]] = (
            weakref.WeakKeyDictionary()
        )

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        free = self._free.get(loop := asyncio.get_running_loop())
        if free is None:
            free = self._free[loop] = asyncio.Queue()
            for executor in self._threads:
                free.put_nowait(executor)
        executor = await free.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            free.put_nowait(executor)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            response = await sync_to_async(self.respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if not response.closed:
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def respond(self, scope: Scope, body_file: IO[bytes]) -> HttpResponseBase:
        """Everything a request does in Django, in the request's thread."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        # A request, or the response to send when none can be made (the stubs type the pair as a union).
        made: tuple[ASGIRequest | None, HttpResponseBase] = self.create_request(scope, body_file)  # type: ignore[assignment]
        request, response = made
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]  # Django's own mark (as its handler)
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response
