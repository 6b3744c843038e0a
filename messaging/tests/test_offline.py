"""Reaching people who are away: a consultant's message pushes to a student whose app is closed within
seconds, and mails them a quarter of an hour later if still unread; never the sender, never someone
with an open socket, never a muted conversation; one push per burst. A real daphne process, a real
Celery worker, a Web Push service that decrypts, a real SMTP server; the 15 minutes are travelled."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import pytest
import time_machine
from django.utils import timezone
from websockets.asyncio.client import connect as ws_connect

from accounts.tests.factories import StudentFactory
from conftest import access_token_for
from core.tests.live_server import daphne_servers
from devices.models import Device, DeviceKind
from devices.tests.standins import wait_for
from messaging import offline
from messaging.models import Participant
from messaging.socket.registry import users_with_sockets
from messaging.tasks import send_missed_message_emails
from messaging.tests.factories import make_conversation, send
from notifications.models import NotificationPreference

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 1


@pytest.fixture(autouse=True)
def _short_grace(settings):
    settings.PUSH_GRACE_SECONDS = GRACE


def subscribe(parts, user, name):
    subscription = parts.webpush.subscription(name)
    return Device.objects.create(
        user=user,
        kind=DeviceKind.WEBPUSH,
        token=subscription["endpoint"],
        p256dh=subscription["keys"]["p256dh"],
        auth=subscription["keys"]["auth"],
    )


def mail_for(parts, user):
    return [m for m in parts.smtp.messages if m["To"] == user.email]


def travel_and_mail(minutes):
    """The clock moves on; beat's job for missed-message emails runs on the real worker."""
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=True)


def test_a_student_with_the_app_closed_gets_a_push_then_an_email(
    tmp_path, worker, push_parts, consultant, student, office
):
    online = StudentFactory(office=office, first_name="Online")
    conversation = make_conversation(consultant, student, online, title="Applications", office=office)
    for person, name in ((consultant, "consultant"), (student, "student"), (online, "online")):
        subscribe(push_parts, person, name)

    tokens = {"online": access_token_for(online), "consultant": access_token_for(consultant)}
    with daphne_servers(tmp_path, PUSH_GRACE_SECONDS=str(GRACE)) as ((port,), _):

        async def scenario():
            url = f"ws://127.0.0.1:{port}/ws/?token={{}}"
            async with (
                ws_connect(url.format(tokens["online"])),  # the one with the app open
                ws_connect(url.format(tokens["consultant"])) as talker,
            ):
                await asyncio.to_thread(
                    wait_for, lambda: users_with_sockets([online.id, consultant.id]) == {online.id, consultant.id}
                )
                await talker.send(
                    json.dumps(
                        {
                            "event": "send_message",
                            "id": "1",
                            "data": {"conversation_id": conversation.id, "content": "Your offer arrived!"},
                        }
                    )
                )
                sent_at = time.time()
                pushed = await asyncio.to_thread(wait_for, lambda: push_parts.webpush.for_("student"), 10)
                return sent_at, pushed

        sent_at, [push] = asyncio.run(scenario())
    assert push["at"] - sent_at < GRACE + 2
    assert push["plaintext"]["title"] == "Applications"
    assert push["plaintext"]["body"] == f"{consultant.first_name} {consultant.last_name}: Your offer arrived!"
    assert push["plaintext"]["data"]["conversation_id"] == str(conversation.id)
    assert push["plaintext"]["badge"] == 1
    assert push["headers"]["topic"] == f"conversation-{conversation.id}"
    worker.settled()
    assert push_parts.webpush.for_("consultant") == [] and push_parts.webpush.for_("online") == []

    with travel_and_mail(14):  # not yet
        send_missed_message_emails.delay()
        worker.settled()
        assert push_parts.smtp.messages == []
    with travel_and_mail(16):
        send_missed_message_emails.delay()
        [mail] = wait_for(lambda: push_parts.smtp.messages)
    assert mail["To"] == student.email and mail["Subject"] == "1 unread message"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and "/unsubscribe/" in mail["List-Unsubscribe"]
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    assert "Your offer arrived!" in text and "Your offer arrived!" in html
    assert f"/conversations/{conversation.id}" in text and office.name in text
    with travel_and_mail(40):  # the same missed messages are never mailed twice
        send_missed_message_emails.delay()
        worker.settled()
    assert len(push_parts.smtp.messages) == 1


def test_a_burst_is_one_push_with_the_unread_count(worker, push_parts, consultant, student):
    conversation = make_conversation(consultant, student)
    subscribe(push_parts, student, "student")
    for n in range(5):
        send(consultant, conversation, f"part {n}")
    [push] = wait_for(lambda: push_parts.webpush.for_("student"))
    assert push["plaintext"]["body"] == "Group conversation" or push["plaintext"]["body"].startswith(
        f"{consultant.first_name} {consultant.last_name}: part 4 (+4 more)"
    )
    assert push["plaintext"]["badge"] == 5
    worker.settled()
    assert len(push_parts.webpush.for_("student")) == 1
    send(consultant, conversation, "after the burst")
    assert wait_for(lambda: len(push_parts.webpush.for_("student")) == 2)


def test_muted_quiet_and_switched_off_never_push(worker, push_parts, consultant, office):
    muted, quiet, no_push, reads = (StudentFactory(office=office) for _ in range(4))
    conversation = make_conversation(consultant, muted, quiet, no_push, reads)
    for person, name in ((muted, "muted"), (quiet, "quiet"), (no_push, "no_push"), (reads, "reads")):
        subscribe(push_parts, person, name)
    Participant.objects.filter(user=muted).update(muted_until=timezone.now() + dt.timedelta(days=1))
    NotificationPreference.objects.create(
        user=quiet, quiet_start=dt.time(0, 0), quiet_end=dt.time(23, 59), timezone="UTC"
    )
    NotificationPreference.objects.create(user=no_push, channels={"message": {"push": False}})
    send(consultant, conversation, "hello all")
    assert wait_for(lambda: push_parts.webpush.for_("reads"))
    worker.settled()
    assert [p["name"] for p in push_parts.webpush.received] == ["reads"]


def test_private_previews_and_email_switched_off(worker, push_parts, consultant, student, office):
    quiet_mail = StudentFactory(office=office)
    conversation = make_conversation(consultant, student, quiet_mail)
    subscribe(push_parts, student, "student")
    NotificationPreference.objects.create(user=student, private_previews=True)
    NotificationPreference.objects.create(user=quiet_mail, channels={"message": {"email": False}})
    send(consultant, conversation, "Your IELTS score is 7.5")
    send(consultant, conversation, "Congratulations")
    [push] = wait_for(lambda: push_parts.webpush.for_("student"))
    assert push["plaintext"]["body"].endswith("2 new messages") and "IELTS" not in json.dumps(push["plaintext"])
    with travel_and_mail(16):
        send_missed_message_emails.delay()
        [mail] = wait_for(lambda: push_parts.smtp.messages)
        worker.settled()
    assert [m["To"] for m in push_parts.smtp.messages] == [student.email]
    assert (
        "IELTS" not in mail.get_body(("plain",)).get_content() and "IELTS" not in mail.get_body(("html",)).get_content()
    )


def test_reading_before_the_email_cancels_it(worker, push_parts, consultant, student, client_for):
    conversation = make_conversation(consultant, student)
    message = send(consultant, conversation, "Are you free Monday?")
    offline.flush_now()
    wait_for(lambda: offline._redis().zscore(offline._key("email:due"), str(student.pk)))
    assert client_for(student).patch(f"/api/v1/messages/{message.id}/read").status_code in (200, 204)
    with travel_and_mail(16):
        send_missed_message_emails.delay()
        worker.settled()
    assert push_parts.smtp.messages == []
