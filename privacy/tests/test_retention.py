"""Retention: each period is a setting, applied by `apply_retention` (the daily task's body); what is past it
goes, what is not stays. Times are set relative to a fixed `now` handed to the rules: no clock is read."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from documents.models import Document
from leads.models import Activity, Lead, LeadStatus
from leads.tests.factories import LeadFactory
from messaging.models import Message, MonitoringAudit
from messaging.tests.factories import make_conversation, send
from notifications.models import Notification
from notifications.services import notification_create
from privacy import services, tasks
from privacy.models import ExportStatus, PersonalDataExport, PrivacyAudit

pytestmark = pytest.mark.django_db
NOW = datetime(2027, 6, 15, 12, 0, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def apply(django_capture_on_commit_callbacks) -> dict[str, int]:
    with django_capture_on_commit_callbacks(execute=True):
        return services.retention_apply(now=NOW)


def test_lost_leads_past_the_period_are_anonymised_with_their_documents(
    settings, office, consultant, django_capture_on_commit_callbacks
):
    settings.LEAD_LOST_RETENTION_DAYS = 730
    old = LeadFactory(office=office, status=LeadStatus.LOST, lost_reason="Too expensive", first_name="Ivo")
    recent = LeadFactory(office=office, status=LeadStatus.LOST, lost_reason="Too expensive", first_name="Jia")
    open_old = LeadFactory(office=office, status=LeadStatus.QUALIFIED, first_name="Kai")
    Activity.objects.create(lead=old, actor=consultant, kind="note", text="Ivo's father called")
    key = default_storage.save("documents/ivo.pdf", ContentFile(b"%PDF-1.4 ivo"))
    document = Document.objects.create(
        kind="passport", lead=old, office=office, file_key=key, file_name="ivo.pdf", mime_type="application/pdf", size=9
    )
    Lead.objects.filter(pk__in=[old.pk, open_old.pk]).update(updated_at=days_ago(731))
    Lead.objects.filter(pk=recent.pk).update(updated_at=days_ago(729))

    results = apply(django_capture_on_commit_callbacks)

    assert results["lost leads"] == 1 and results["documents of anonymised leads"] == 1
    old.refresh_from_db()
    assert (old.first_name, old.email, old.phone, old.status) == ("[removed]", "", "", LeadStatus.LOST)
    assert Activity.objects.get(lead=old).text == ""
    assert not default_storage.exists(key)
    document.refresh_from_db()
    assert document.file_name == "[removed]" and document.deleted_at is not None
    assert Lead.objects.get(pk=recent.pk).first_name == "Jia"
    assert Lead.objects.get(pk=open_old.pk).first_name == "Kai"
    assert services.retention_apply(now=NOW)["lost leads"] == 0  # once


def test_read_notifications_go_unread_ones_stay(settings, student, django_capture_on_commit_callbacks):
    settings.NOTIFICATION_READ_RETENTION_DAYS = 180
    made = [notification_create(recipient=student, kind="announcement", title=title) for title in "abc"]
    old_read, old_unread, recent_read = made
    Notification.objects.filter(pk=old_read.pk).update(read_at=days_ago(181))
    Notification.objects.filter(pk=recent_read.pk).update(read_at=days_ago(179))
    Notification.objects.filter(pk=old_unread.pk).update(created_at=days_ago(1000))
    assert apply(django_capture_on_commit_callbacks)["read notifications"] == 1
    assert set(Notification.objects.values_list("title", flat=True)) == {"b", "c"}


def test_deleted_messages_lose_their_text_after_the_period_and_keep_their_seq(
    settings, consultant, student, office, django_capture_on_commit_callbacks
):
    settings.MESSAGE_DELETED_RETENTION_DAYS = 90
    chat = make_conversation(consultant, student, office=office)
    first, second, _ = (send(student, chat, content=f"text {n}") for n in range(3))
    Message.objects.filter(pk=first.pk).update(deleted_at=days_ago(91))
    Message.objects.filter(pk=second.pk).update(deleted_at=days_ago(89))
    assert apply(django_capture_on_commit_callbacks)["deleted messages"] == 1
    rows = list(Message.objects.filter(conversation=chat).order_by("seq").values_list("seq", "content"))
    assert rows == [(1, ""), (2, "text 1"), (3, "text 2")]


def test_expired_sign_in_credentials_are_deleted(settings, student, django_capture_on_commit_callbacks):
    settings.EXPIRED_CREDENTIALS_RETENTION_DAYS = 7
    RefreshToken.for_user(student)
    RefreshToken.for_user(student)
    stale, fresh = OutstandingToken.objects.order_by("id")
    OutstandingToken.objects.filter(pk=stale.pk).update(expires_at=days_ago(8))
    OutstandingToken.objects.filter(pk=fresh.pk).update(expires_at=NOW + timedelta(days=1))
    assert apply(django_capture_on_commit_callbacks)["expired sign-in credentials"] == 1
    assert list(OutstandingToken.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_audit_entries_past_the_period_are_deleted_and_zero_keeps_them(
    settings, manager, student, django_capture_on_commit_callbacks
):
    settings.AUDIT_RETENTION_DAYS = 365
    old_monitoring = MonitoringAudit.objects.create(actor=manager, action="monitor_list")
    MonitoringAudit.objects.create(actor=manager, action="monitor_list")
    old_privacy = PrivacyAudit.objects.create(actor=manager, subject=student, action="export")
    PrivacyAudit.objects.create(actor=manager, subject=student, action="export")
    MonitoringAudit.objects.filter(pk=old_monitoring.pk).update(created_at=days_ago(366))
    PrivacyAudit.objects.filter(pk=old_privacy.pk).update(created_at=days_ago(366))
    settings.AUDIT_RETENTION_DAYS = 0
    assert apply(django_capture_on_commit_callbacks)["privacy audit"] == 0
    settings.AUDIT_RETENTION_DAYS = 365
    results = apply(django_capture_on_commit_callbacks)
    assert (results["monitoring audit"], results["privacy audit"]) == (1, 1)
    assert MonitoringAudit.objects.count() == PrivacyAudit.objects.count() == 1


def test_prepared_exports_expire_and_their_files_go(settings, manager, student, django_capture_on_commit_callbacks):
    settings.PERSONAL_EXPORT_KEEP_HOURS = 24
    key = default_storage.save("personal-exports/test.zip", ContentFile(b"PK"))
    stale = PersonalDataExport.objects.create(
        subject=student, requested_by=manager, status="ready", file_key=key, expires_at=NOW - timedelta(hours=1)
    )
    fresh = PersonalDataExport.objects.create(
        subject=student, requested_by=manager, status="ready", file_key="x", expires_at=NOW + timedelta(hours=1)
    )
    assert apply(django_capture_on_commit_callbacks)["prepared exports"] == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.file_key, fresh.status) == (ExportStatus.EXPIRED, "", ExportStatus.READY)
    assert not default_storage.exists(key)


def test_the_command_and_the_task_run_every_rule(settings):
    out = io.StringIO()
    call_command("apply_retention", "--list", stdout=out)
    for setting in ("LEAD_LOST_RETENTION_DAYS", "NOTIFICATION_READ_RETENTION_DAYS", "MESSAGE_DELETED_RETENTION_DAYS"):
        assert f"{setting}=" in out.getvalue()
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert "lost leads: 0" in out.getvalue() and "Retention applied." in out.getvalue()
    assert set(tasks.apply_retention()) >= {"lost leads", "read notifications", "deleted messages", "privacy audit"}
