"""API rate limits: a sliding minute per user, counted atomically in Redis."""

import pytest
from rest_framework.test import APIRequestFactory

from core.throttling import UserRateThrottle

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def throttle_for(rate, clock):
    class Limited(UserRateThrottle):
        pass

    Limited.rate = rate
    Limited.timer = clock
    return Limited()


def allowed(throttle, user):
    request = APIRequestFactory().get("/")
    request.user = user
    return throttle.allow_request(request, None)


def test_a_minute_holds_the_rate_and_slides(consultant, receptionist):
    clock = Clock(6000.0)  # the start of a minute
    throttle = throttle_for("3/min", clock)
    assert [allowed(throttle, consultant) for _ in range(4)] == [True, True, True, False]
    assert throttle.wait() == 60
    assert allowed(throttle, receptionist)  # per user
    clock.now += 60  # next minute: the last one still weighs fully
    assert not allowed(throttle, consultant)
    clock.now += 20  # a third of it has slid out: one more request fits
    assert allowed(throttle, consultant) and not allowed(throttle, consultant)
    assert 1 <= throttle.wait() <= 20
    clock.now += 40  # the next minute's start: the one allowed at +20 s still weighs fully
    assert [allowed(throttle, consultant) for _ in range(3)] == [True, True, False]
    clock.now += 120  # a quiet minute later: the full rate again
    assert [allowed(throttle, consultant) for _ in range(4)] == [True, True, True, False]


def test_api_answers_429_with_retry_after(client_for, consultant, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min"})
    client = client_for(consultant)
    assert [client.get("/api/v1/auth/me").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 429 and response.json()["error"]["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_another_cache_backend_falls_back_to_drfs_counting(settings, consultant):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    throttle = throttle_for("2/min", Clock(6000.0))
    assert [allowed(throttle, consultant) for _ in range(3)] == [True, True, False]
    assert 1 <= throttle.wait() <= 60
