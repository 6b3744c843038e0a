"""`/metrics` for Prometheus (staff or `METRICS_TOKEN`): the request figures of this process
(`core.metrics`), the socket and message figures across every server process, and the background jobs'
queue length and outcomes across every worker (`core.jobs`)."""

from datetime import timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from core.errors import CoreErrorCode, error_body
from core.jobs import job_stats
from core.metrics import REGISTRY
from core.outages import DATABASE_ERRORS, REDIS_ERRORS, unavailable
from messaging.models import Message
from messaging.socket import registry


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token and request.headers.get("Authorization", "") == f"Bearer {token}":
        return True
    if request.user.is_authenticated and request.user.is_staff:
        return True
    try:
        found = JWTAuthentication().authenticate(request)
    except AuthenticationFailed:  # a malformed, expired or revoked token, or an inactive user
        return False
    return bool(found and getattr(found[0], "is_staff", False))


def metrics(request):
    if not _allowed(request):
        body = error_body(CoreErrorCode.NOT_AUTHENTICATED, "Staff sign-in or the metrics token is required.")
        return JsonResponse(body, status=401)
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
        jobs = job_stats()
    except REDIS_ERRORS as exc:
        unavailable(exc, "metrics")
    else:
        Gauge("crm_jobs_queued", "background jobs waiting in the queue", registry=live).set(jobs["queued"])
        Gauge(
            "crm_jobs_held", "background jobs taken by workers, running or waiting for their countdown", registry=live
        ).set(jobs["held"])
        outcomes = Counter(
            "crm_jobs", "background jobs ended, per task and outcome (every worker)", ["task", "outcome"], registry=live
        )
        for (task, outcome), count in sorted(jobs["outcomes"].items()):
            outcomes.labels(task=task, outcome=outcome).inc(count)
    try:
        recent = Message.objects.filter(created_at__gte=timezone.now() - timedelta(minutes=1)).count()
    except DATABASE_ERRORS as exc:
        unavailable(exc, "metrics")
    else:
        Gauge("crm_messages_last_minute", "messages stored in the last minute", registry=live).set(recent)
    return HttpResponse(generate_latest(REGISTRY) + generate_latest(live), content_type=CONTENT_TYPE_LATEST)
