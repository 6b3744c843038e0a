"""Operations: the export and purge commands (metrics: reports/tests; seed: demo/tests)."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from messaging.models import Message, MonitoringAudit
from messaging.services import message_delete
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db


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
    chat = make_conversation(consultant, receptionist, office=office)
    old, recent, kept = (
        send(consultant, chat, "old secret"),
        send(consultant, chat, "recent"),
        send(consultant, chat, "kept"),
    )
    for message in (old, recent):
        message_delete(actor=consultant, message=message)
    Message.objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=400))
    call_command("purge_deleted_messages", "--days", "90")
    assert Message.objects.get(pk=old.pk).content == ""
    assert Message.objects.get(pk=recent.pk).content == "recent"
    assert Message.objects.get(pk=kept.pk).content == "kept"
    assert Message.objects.filter(conversation=chat).count() == 3  # rows stay: seq stays whole
