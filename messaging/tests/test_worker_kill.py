"""A worker killed with SIGKILL in the middle of a burst of pushes loses none and doubles none: its job
was acknowledged late, so it returns to the queue, and the ledger makes the next worker skip what the
first had sent. Real worker processes (`celery -A crm_project worker`), killed and started again."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter

import pytest

from accounts.tests.factories import StudentFactory
from core.tests.live_server import ROOT, server_env
from devices.models import Device, DeviceKind
from devices.tests.standins import wait_for
from messaging.tests.factories import make_conversation, send
from notifications.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)

STUDENTS = 30


def start_worker(settings, log):
    env = server_env(
        CELERY_VISIBILITY_TIMEOUT="4",
        PUSH_SEND_THREADS="1",  # one push in flight: the kill lands while it waits, never just after its answer
        WEBPUSH_VAPID_PRIVATE_KEY=settings.WEBPUSH_VAPID_PRIVATE_KEY,
        WEBPUSH_VAPID_PUBLIC_KEY=settings.WEBPUSH_VAPID_PUBLIC_KEY,
        WEBPUSH_VAPID_SUBJECT=settings.WEBPUSH_VAPID_SUBJECT,
        WEBPUSH_ALLOWED_ENDPOINTS=",".join(settings.WEBPUSH_ALLOWED_ENDPOINTS),
        LOG_LEVEL="INFO",
    )
    command = [
        str(ROOT / ".venv" / "bin" / "celery"),
        "-A",
        "crm_project",
        "worker",
        "--pool",
        "solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def test_a_worker_killed_mid_burst_loses_and_doubles_nothing(settings, push_parts, consultant, office, tmp_path):
    settings.PUSH_GRACE_SECONDS = 1
    students = [StudentFactory(office=office) for _ in range(STUDENTS)]
    conversation = make_conversation(consultant, *students)
    for index, student in enumerate(students):
        subscription = push_parts.webpush.subscription(f"s{index}")
        Device.objects.create(
            user=student,
            kind=DeviceKind.WEBPUSH,
            token=subscription["endpoint"],
            p256dh=subscription["keys"]["p256dh"],
            auth=subscription["keys"]["auth"],
        )
    push_parts.webpush.delay = 0.15  # the burst takes ~4.5 s: time to kill the worker in the middle

    with open(tmp_path / "worker.log", "w+") as log:
        first = start_worker(settings, log)
        try:
            send(consultant, conversation, "Deadline moved to Friday")
            assert wait_for(lambda: len(push_parts.webpush.received) >= 8, timeout=30), log.seek(0) or log.read()
            # Killed while the worker waits for the push service's answer: its job is half done. (Killed
            # after the service took a push but before the worker recorded it, that push would come
            # twice; the Topic header makes the browser show it once: docs/notifications.md.)
            assert wait_for(push_parts.webpush.mid_request, timeout=5, every=0.005)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
            before = len(push_parts.webpush.received)
            assert before < STUDENTS
            second = start_worker(settings, log)
            try:
                assert wait_for(lambda: len(push_parts.webpush.received) >= STUDENTS, timeout=60), (
                    log.seek(0) or log.read()
                )
                time.sleep(3)  # anything doubled would arrive by now
            finally:
                second.terminate()
                second.wait(20)
        finally:
            if first.poll() is None:
                first.kill()
    received = Counter(push["name"] for push in push_parts.webpush.received)
    assert push_parts.webpush.dropped == 1  # the push in flight when the worker died
    assert received == Counter({f"s{index}": 1 for index in range(STUDENTS)})
    assert Delivery.objects.filter(key__startswith=f"push:message:{conversation.id}:").count() == STUDENTS
