"""Operations: metrics, seed, export and purge commands."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from messaging.models import Message, MonitoringAudit
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db


def test_metrics_need_staff_or_the_token(client, client_for, consultant, student, settings):
    assert client.get("/metrics").status_code == 401
    assert client_for(student).get("/metrics").status_code == 401
    body = client_for(consultant).get("/metrics").content.decode()
    assert "crm_http_requests_total" in body and "crm_socket_sockets" in body and "crm_messages_last_minute" in body
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_seed_is_idempotent(capsys):
    from accounts.models import User
    from leads.models import Lead
    from offices.models import Office

    call_command("seed", "--offices", "1")
    output = capsys.readouterr()
    # Not a terminal (as in logs): plain lines, no progress-bar escape codes or carriage returns.
    assert "Seeding London leads (12)" in output.out
    assert not any(code in output.out + output.err for code in ("\x1b", "\r"))
    counts = (Office.objects.count(), User.objects.count(), Lead.objects.count(), Message.objects.count())
    assert counts[0] == 1 and counts[2] >= 10 and counts[3] > 0
    assert set(User.objects.values_list("role", flat=True)) == {"manager", "consultant", "receptionist", "student"}
    call_command("seed", "--offices", "1")
    assert (Office.objects.count(), User.objects.count(), Lead.objects.count(), Message.objects.count()) == counts
    call_command("seed", "--if-empty")
    assert "not seeding" in capsys.readouterr().out


def test_export_conversations_is_scoped_and_audited(tmp_path, manager, consultant, receptionist, office, other_manager):
    chat = make_conversation(consultant, receptionist, office=office)
    send(consultant, chat, "hello export")
    path = tmp_path / "out.jsonl"
    call_command("export_conversations", "--as", manager.email, "--format", "json", "--output", str(path))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [m["content"] for m in lines[0]["messages"]] == ["hello export"]
    assert MonitoringAudit.objects.filter(actor=manager, action="export").count() == 1
    other = tmp_path / "other.jsonl"
    call_command("export_conversations", "--as", other_manager.email, "--output", str(other))
    assert other.read_text() == ""  # another office's manager gets nothing
    with pytest.raises(CommandError):
        call_command("export_conversations", "--as", consultant.email)
    with pytest.raises(CommandError):
        call_command("export_conversations", "--as", manager.email, "--from", "last week")


def test_purge_clears_old_deleted_content_only(consultant, receptionist, office):
    from messaging.services import message_delete

    chat = make_conversation(consultant, receptionist, office=office)
    old, recent, kept = send(consultant, chat, "old secret"), send(consultant, chat, "recent"), send(consultant, chat, "kept")
    for message in (old, recent):
        message_delete(actor=consultant, message=message)
    Message.objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=400))
    call_command("purge_deleted_messages", "--days", "90")
    assert Message.objects.get(pk=old.pk).content == ""
    assert Message.objects.get(pk=recent.pk).content == "recent"
    assert Message.objects.get(pk=kept.pk).content == "kept"
    assert Message.objects.filter(conversation=chat).count() == 3  # rows stay: seq stays whole
