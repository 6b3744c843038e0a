"""The background-job engine: Celery on the real Redis, in this installation's namespace, with the house
defaults every job gets; the scheduled jobs are real tasks; /metrics shows the queue and failures; the
appointment reminders run as a scheduled job on the worker and reach the student's phone."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.utils import timezone

from appointments import services as appointments
from appointments.tasks import send_reminders
from core.jobs import job_stats, send_now
from crm_project.celery import BEAT_SCHEDULE, app
from devices.models import Device, DeviceKind
from devices.tests.standins import wait_for
from leads.tests.factories import LeadFactory
from messaging import offline
from notifications.models import Notification
from notifications.tasks import deliver_notifications, prune_delivery_ledger

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_job_is_acknowledged_late_requeued_when_its_worker_dies_and_time_limited():
    for name, task in app.tasks.items():
        if name.startswith("celery."):
            continue
        assert task.acks_late is True, name
        assert task.reject_on_worker_lost is True, name
        assert task.max_retries and task.retry_backoff, name
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
    assert app.conf.broker_transport_options["visibility_timeout"] > django_settings.PUSH_GRACE_SECONDS
    assert app.conf.worker_prefetch_multiplier == 1


def test_every_scheduled_job_names_a_real_task():
    app.loader.import_default_modules()
    for name, row in BEAT_SCHEDULE.items():
        assert row["task"] in app.tasks, name
        # a missed run never piles up: it expires before the next one is due
        every = row["schedule"]
        if isinstance(every, crontab):  # the rows at a time of day run once a day
            assert len(every.hour) == len(every.minute) == 1 and len(every.day_of_week) == 7, name
            every = 24 * 3600.0
        assert row["options"]["expires"] < every, name


def test_jobs_wait_in_this_installations_namespace_only():
    """Installations sharing one Redis never take each other's jobs: every broker key carries the namespace."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    offline.flush_now()  # nothing of an earlier test's sends still to come
    with app.connection_for_write() as connection:  # the queue, as a worker declares it at start
        app.amqp.queues[django_settings.CELERY_TASK_DEFAULT_QUEUE](connection.default_channel).declare()
    before, queued = set(client.keys("*")), job_stats()["queued"]
    assert send_now(prune_delivery_ledger)
    new = set(client.keys("*")) - before
    assert all(key.decode().startswith(f"{django_settings.REDIS_NAMESPACE}:jobs:") for key in new)
    assert job_stats()["queued"] == queued + 1
    assert client.llen("celery") == 0  # what another installation without a namespace would read


def test_metrics_show_the_queue_and_failed_jobs(worker, client_for, consultant):
    deliver_notifications.delay(["not-an-id"])  # fails: nothing to retry
    assert wait_for(lambda: job_stats()["outcomes"].get(("notifications.tasks.deliver_notifications", "failed")))
    body = client_for(consultant).get("/metrics").content.decode()
    assert 'crm_jobs_total{outcome="failed",task="notifications.tasks.deliver_notifications"} 1.0' in body
    assert "crm_jobs_queued 0.0" in body and "crm_jobs_held" in body


def test_appointment_reminders_run_on_the_worker_and_push(
    worker, push_parts, office, consultant, student, receptionist
):
    LeadFactory(office=office, student=student, assigned_to=consultant)
    subscription = push_parts.webpush.subscription("student")
    Device.objects.create(user=student, kind=DeviceKind.WEBPUSH, token=subscription["endpoint"], **subscription["keys"])
    start = (timezone.now() + dt.timedelta(minutes=30)).replace(microsecond=0)
    appointments.appointment_book(
        actor=receptionist,
        consultant=consultant,
        student=student,
        title="Visa check",
        start=start,
        end=start + dt.timedelta(minutes=30),
        allow_outside_hours=True,  # the worker's clock is the real one: in 30 minutes, whatever the hour
    )
    assert wait_for(lambda: len(push_parts.webpush.received) == 1)
    assert push_parts.webpush.received[0]["plaintext"]["title"] == "Appointment booked"
    send_reminders.delay()
    send_reminders.delay()  # beat sent it twice (a restart): still one reminder
    assert wait_for(lambda: len(push_parts.webpush.received) == 2)
    assert push_parts.webpush.received[1]["plaintext"]["title"] == "Reminder: Visa check"
    assert Notification.objects.filter(kind="appointment_reminder").count() == 2  # consultant and student
