"""Prometheus figures for ops: requests (per process) and sockets (totals across processes)."""

import time

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from core.outages import DATABASE_ERRORS, REDIS_ERRORS, unavailable

REGISTRY = CollectorRegistry()
REQUESTS = Counter("crm_http_requests_total", "HTTP requests answered", ["method", "status"], registry=REGISTRY)
LATENCY = Histogram("crm_http_request_seconds", "HTTP request duration", ["method"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        LATENCY.labels(request.method).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, f"{response.status_code // 100}xx").inc()
        return response


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header == f"Bearer {token}":
        return True
    if request.user.is_authenticated and request.user.is_staff:
        return True
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

    try:
        found = JWTAuthentication().authenticate(request)
    except (InvalidToken, TokenError, Exception):
        return False
    return bool(found and found[0].is_staff)


def metrics(request):
    if not _allowed(request):
        from core.views import error_body
        from django.http import JsonResponse

        return JsonResponse(error_body("not_authenticated", "Staff sign-in or the metrics token is required."), status=401)
    from messaging.models import Message
    from messaging.socket import registry

    # While Redis or PostgreSQL is down the figures read from it are left out; this process's are still served.
    live = CollectorRegistry()
    try:
        sockets = async_to_sync(registry.stats)()
    except REDIS_ERRORS as exc:
        unavailable(exc, "metrics")
    else:
        for name, value in sockets.items():
            description = f"{name.replace('_', ' ')} across every server process"
            Gauge(f"crm_socket_{name}", description, registry=live).set(value)
    try:
        recent = Message.objects.filter(created_at__gte=timezone.now() - timezone.timedelta(minutes=1)).count()
    except DATABASE_ERRORS as exc:
        unavailable(exc, "metrics")
    else:
        Gauge("crm_messages_last_minute", "messages stored in the last minute", registry=live).set(recent)
    return HttpResponse(generate_latest(REGISTRY) + generate_latest(live), content_type=CONTENT_TYPE_LATEST)
