"""Views for core/tests/test_handlers.py: what a request can do to the ASGI handler."""

from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

closed = []  # what each response saw when it was closed


class Tracked(StreamingHttpResponse):
    def close(self):
        closed.append(self.status_code)
        super().close()


def query(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok")


def boom(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    raise RuntimeError("a bug in a view")


def stream(request):
    def rows():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        yield b"first,"
        if request.GET.get("fail"):
            raise RuntimeError("failed while streaming")
        yield b"second"

    return Tracked(rows())


urlpatterns = [path("query", query), path("boom", boom), path("stream", stream)]
handler500 = "core.views.server_error"
