"""Django's ASGI handler with the middleware chain run synchronously.

Stock Django builds an async middleware chain under ASGI. Our middleware and views are
sync (DRF, WhiteNoise, sessions, CSRF...), so a request then crossed between the event
loop and a worker thread once per middleware hook and again for the view — a dozen
handoffs, with their thread wake-ups and GIL contention, costing more CPU than the view
itself (bench/messaging_bench.py). Here the whole chain runs in one worker thread, as under
WSGI: one handoff per request. Thread-sensitive as before, so a request's queries, its
`request_finished` clean-up and its database connection stay on one thread.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler


class ASGIHandler(DjangoASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
