"""GET users/{id}/export: who may (per role, other office included), what the ZIP holds, the audit, and
large exports built in the background behind a short-lived signed link."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import StudentFactory
from privacy import services
from privacy.models import ExportStatus, PersonalDataExport, PrivacyAction, PrivacyAudit
from privacy.tests.conftest import PDF, TXT, unzip

pytestmark = pytest.mark.django_db


def export(client_for, actor, subject):
    return client_for(actor).get(f"/api/v1/users/{subject.pk}/export")


@pytest.mark.parametrize(
    ("role", "expected"),
    [("super_admin", 200), ("manager", 200), ("consultant", 403), ("receptionist", 403), ("student", 404)],
)
def test_who_may_export_a_student(role, expected, actors, client_for, world):
    response = export(client_for, actors[role], world.student)
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/zip"
    else:
        assert set(response.json()["error"]) == {"code", "message", "details"}
        assert response.json()["error"]["code"] == ("not_found" if expected == 404 else "permission_denied")
    assert PrivacyAudit.objects.filter(action=PrivacyAction.EXPORT).count() == (1 if expected == 200 else 0)


def test_the_person_exports_themself_and_nobody_else(client_for, world, office):
    assert export(client_for, world.student, world.student).status_code == 200
    classmate = StudentFactory(office=office)
    assert export(client_for, classmate, world.student).status_code == 404


def test_another_offices_manager_gets_404(client_for, world, other_manager):
    response = export(client_for, other_manager, world.student)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_manager_exports_their_own_offices_staff_but_a_consultant_not_even_themself_elsewhere(
    client_for, manager, consultant, other_manager
):
    assert export(client_for, manager, consultant).status_code == 200
    assert export(client_for, consultant, consultant).status_code == 200
    assert export(client_for, other_manager, consultant).status_code == 404


def test_unknown_and_hostile_ids_are_404(client_for, super_admin):
    client = client_for(super_admin)
    for user_id in ("999999", "99999999999999999999999"):
        assert client.get(f"/api/v1/users/{user_id}/export").status_code == 404
    assert APIClient().get(f"/api/v1/users/{super_admin.pk}/export").status_code == 401


def test_the_zip_holds_a_file_per_area_the_files_and_a_readme(client_for, world, manager):
    response = export(client_for, manager, world.student)
    files = unzip(b"".join(response.streaming_content))
    assert {
        "README.txt",
        "profile.json",
        "leads.json",
        "appointments.json",
        "documents.json",
        "messages.json",
        "notifications.json",
        "privacy.json",
    } <= set(files)
    readme = files["README.txt"].decode()
    for name in ("profile.json", "messages.json", "documents.json"):
        assert name in readme
    profile = json.loads(files["profile.json"])
    assert (profile["email"], profile["phone"], profile["first_name"]) == (
        "amara.okafor@example.com",
        "+447700900123",
        "Amara",
    )
    documents = json.loads(files["documents.json"])
    assert [d["kind"] for d in documents] == ["passport"]
    assert files[documents[0]["file"]] == PDF  # byte for byte
    leads = json.loads(files["leads.json"])["leads"]
    assert [lead["id"] for lead in leads] == [world.lead.pk]
    assert "Amara wants to study medicine in Toronto." in [entry["text"] for entry in leads[0]["timeline"]]
    messages = json.loads(files["messages.json"])
    assert [m["content"] for m in messages["messages_written"]] == [
        "Hello, it is Amara. Here is my question.",
        "My statement",
    ]
    statement = messages["messages_written"][1]["attachments"][0]
    assert files[statement["file"]] == TXT
    chats = {c["id"]: c for c in messages["conversations"]}
    assert [m["seq"] for m in chats[world.chat.pk]["messages"]] == [1, 2, 3, 4]  # the other side's too
    assert "Visa appointment is booked." in [m["content"] for m in chats[world.group.pk]["messages"]]
    assert [a["title"] for a in json.loads(files["appointments.json"])] == ["Visa review with Amara Okafor"]
    notifications = json.loads(files["notifications.json"])
    assert "Welcome, Amara" in [n["title"] for n in notifications["notifications"]]
    assert notifications["preferences"] is None  # the role's defaults, never changed


def test_what_the_person_cleared_from_their_history_is_left_out(client_for, world):
    from messaging.services import conversation_clear_history  # noqa: PLC0415

    conversation_clear_history(user=world.student, conversation=world.chat)
    files = unzip(b"".join(export(client_for, world.student, world.student).streaming_content))
    chats = {c["id"]: c for c in json.loads(files["messages.json"])["conversations"]}
    assert chats[world.chat.pk]["messages"] == []
    assert len(json.loads(files["messages.json"])["messages_written"]) == 2  # what they wrote stays theirs


def test_every_export_is_audited_with_who_and_whose(client_for, world, manager):
    export(client_for, manager, world.student)
    entry = PrivacyAudit.objects.get()
    assert (entry.actor, entry.subject, entry.action) == (manager, world.student, PrivacyAction.EXPORT)
    assert entry.details["mode"] == "inline"


@pytest.fixture
def background(settings):
    settings.PERSONAL_EXPORT_INLINE_MAX_BYTES = 0  # everything counts as large


def test_a_large_export_is_built_in_the_background_and_fetched_from_a_short_lived_link(
    background, client_for, world, manager
):
    started = export(client_for, manager, world.student)
    assert started.status_code == 202
    job = started.json()
    assert job["status"] == "pending" and job["download_url"] is None
    assert export(client_for, manager, world.student).json()["id"] == job["id"]  # asking again: the same job

    services.personal_export_build(export_id=job["id"])  # what the worker's task runs

    status = client_for(manager).get(job["status_url"]).json()
    assert status["status"] == "ready" and status["size"] > 0
    link = status["download_url"]
    download = APIClient().get(link)  # no bearer token: the link is the authority
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    files = unzip(b"".join(download.streaming_content))
    assert json.loads(files["profile.json"])["email"] == "amara.okafor@example.com"
    actions = list(PrivacyAudit.objects.order_by("id").values_list("action", "actor"))
    assert actions == [(PrivacyAction.EXPORT, manager.pk), (PrivacyAction.EXPORT_DOWNLOAD, manager.pk)]


def test_the_link_expires_and_cannot_be_bent(background, client_for, world, manager, other_manager, settings):
    job = export(client_for, manager, world.student).json()
    services.personal_export_build(export_id=job["id"])
    link = client_for(manager).get(job["status_url"]).json()["download_url"]
    base, token = link.split("?token=")
    assert APIClient().get(f"{base}?token={token[:-2]}xx").status_code == 404  # tampered
    assert APIClient().get(base).status_code == 400  # no token
    assert APIClient().get(f"{base}?token={'x' * 600}").status_code == 400  # longer than any link makes
    assert client_for(other_manager).get(job["status_url"]).status_code == 404  # the job is not theirs to see
    later = timezone.now() + timedelta(minutes=settings.PERSONAL_EXPORT_LINK_MINUTES, seconds=5)
    with time_machine.travel(later, tick=False):
        expired = APIClient().get(link)
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "export_link_expired"


def test_a_link_stops_working_when_its_holder_loses_the_right(background, client_for, world, manager):
    job = export(client_for, manager, world.student).json()
    services.personal_export_build(export_id=job["id"])
    link = client_for(manager).get(job["status_url"]).json()["download_url"]
    manager.is_active = False
    manager.save()
    assert APIClient().get(link).status_code == 404


def test_a_pending_export_cannot_be_downloaded(background, client_for, world, super_admin):
    job = export(client_for, super_admin, world.student).json()
    pending = PersonalDataExport.objects.get(pk=job["id"])
    link = services.export_link(pending, actor=super_admin)
    response = APIClient().get(link)
    assert response.status_code == 409 and response.json()["error"]["code"] == "export_not_ready"


def test_the_sweep_builds_what_no_worker_took(background, client_for, world, manager):
    job = export(client_for, manager, world.student).json()
    assert services.personal_exports_build_pending() == 1
    assert PersonalDataExport.objects.get(pk=job["id"]).status == ExportStatus.READY
    assert services.personal_exports_build_pending() == 0


def test_an_erased_person_has_nothing_left_to_export(client_for, world, super_admin):
    services.person_erase(actor=super_admin, person=world.student, reason="Asked to be forgotten")
    response = export(client_for, super_admin, world.student)
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_erased"
