"""Request figures for Prometheus, counted per process on every request, and the process's Redis
connections per pool (`core.redis_pools`); `/metrics` serves them with the socket figures (`reports.metrics`)."""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from prometheus_client import CollectorRegistry, Counter, Histogram

from core.redis_pools import PoolCollector

REGISTRY = CollectorRegistry()
REGISTRY.register(PoolCollector())  # this process's Redis connections, per pool
REQUESTS = Counter("crm_http_requests_total", "HTTP requests answered", ["method", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "crm_http_request_seconds",
    "HTTP request duration",
    ["method"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        LATENCY.labels(request.method).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, f"{response.status_code // 100}xx").inc()
        return response
