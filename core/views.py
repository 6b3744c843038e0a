import logging
import sys
from collections.abc import Callable
from typing import cast

from django.contrib import admin
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

from core.cache import RedisCache
from core.errors import CoreErrorCode, error_body
from core.outages import redis_outage, unavailable, unavailable_response

logger = logging.getLogger(__name__)


def _check(probe: Callable[[], None]) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # a dependency being down is the answer, not an error
        if unavailable(exc, "health") is None:
            logger.warning("health check failed: %s", exc.__class__.__name__)
        return "down"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    cast(RedisCache, cache).redis().ping()  # tried even while Redis is being skipped: this is how its return is noticed
    redis_outage.recovered()


def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check(_database), "redis": _check(_redis)}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)


def _wants_json(request: HttpRequest) -> bool:
    return not request.path.startswith("/admin/") and not request.path.startswith("/accounts/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(CoreErrorCode.NOT_FOUND, "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body(CoreErrorCode.PERMISSION_DENIED, "You do not have permission to do this."), status=403
        )
    if request.path.startswith("/admin/") and getattr(request.user, "is_staff", False):
        # A page of the console this role does not use: say so in the console's own frame.
        reason = str(exception) or "This page is not part of your role."
        return render(
            request,
            "admin/403.html",
            {
                **admin.site.each_context(request),
                "title": "Not available to you",
                "reason": reason,
            },
            status=403,
        )
    return defaults.permission_denied(request, exception)


def bad_request_page(request: HttpRequest, *, title: str, reason: str) -> HttpResponse:
    """A console page's answer to input it cannot use (a date beyond what it counts, a range it cannot
    show): 400, in the console's own frame, with what was wrong."""
    context = {**admin.site.each_context(request), "title": title, "reason": reason}
    return render(request, "admin/400.html", context, status=400)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(CoreErrorCode.BAD_REQUEST, "The request could not be understood."), status=400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    raised = sys.exc_info()[1]
    error = unavailable(raised) if raised is not None else None
    if error is not None:  # raised in a middleware (a session read, say) while PostgreSQL or Redis is down
        return unavailable_response(request, error)
    if _wants_json(request):
        return JsonResponse(error_body(CoreErrorCode.SERVER_ERROR, "Something went wrong on our side."), status=500)
    return defaults.server_error(request)
