"""Bad and hostile input: clear errors in the one shape, nothing half-written."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, connection, transaction

from accounts.tests.factories import ReceptionistFactory
from core.errors import Conflict, NotFound
from leads import imports
from leads.imports import leads_import_csv
from leads.models import Activity, Lead, LeadSource
from leads.services import lead_add_note, lead_create
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(office):
    return LeadFactory(office=office)


@pytest.mark.parametrize(
    "consultant_id, status, code",
    [(999999, 400, "unknown_consultant"), ("abc", 400, "validation_error"), (None, 400, "validation_error")],
)
def test_assign_to_nobody(consultant_id, status, code, client_for, manager, lead):
    body = {} if consultant_id is None else {"consultant_id": consultant_id}
    response = client_for(manager).post(f"/api/v1/leads/{lead.id}/assign", body)
    assert response.status_code == status and response.json()["error"]["code"] == code
    lead.refresh_from_db()
    assert lead.assigned_to_id is None and not Activity.objects.filter(lead=lead, kind="assigned").exists()


def test_assign_to_another_offices_consultant_changes_nothing(client_for, manager, lead, other_consultant):
    response = client_for(manager).post(f"/api/v1/leads/{lead.id}/assign", {"consultant_id": other_consultant.id})
    assert response.json()["error"]["code"] == "unknown_consultant"  # as unknown as an id that does not exist
    lead.refresh_from_db()
    assert lead.assigned_to_id is None


@pytest.mark.parametrize(
    "body, code",
    [
        ({"status": "lost"}, "lost_reason_required"),
        ({"status": "lost", "lost_reason": "   "}, "lost_reason_required"),
        ({"status": "converted"}, "invalid_transition"),
        ({"status": "new"}, "invalid_transition"),
        ({"status": "dormant"}, "validation_error"),
        ({}, "validation_error"),
    ],
)
def test_bad_status_changes(body, code, client_for, manager, lead):
    response = client_for(manager).post(f"/api/v1/leads/{lead.id}/status", body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    lead.refresh_from_db()
    assert lead.status == "new" and not Activity.objects.filter(lead=lead, kind="status_changed").exists()


def test_patch_to_lost_without_reason_is_refused(client_for, manager, lead):
    response = client_for(manager).patch(f"/api/v1/leads/{lead.id}", {"status": "lost"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "lost_reason_required"


def test_the_database_refuses_a_lost_lead_without_reason(lead):
    lead.status = "lost"
    with pytest.raises(IntegrityError), transaction.atomic():
        lead.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(status="dormant")


def test_oversized_import_is_413(client_for, receptionist):
    big = b"first_name,email\n" + b"x" * (5 * 1024 * 1024 + 1)
    response = client_for(receptionist).post(
        "/api/v1/leads/import", {"file": SimpleUploadedFile("big.csv", big)}, format="multipart"
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_large"
    assert not Lead.objects.exists()


def test_import_without_a_file(client_for, receptionist):
    response = client_for(receptionist).post("/api/v1/leads/import", {}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "no_file"


def test_import_with_json_is_415(client_for, receptionist):
    response = client_for(receptionist).post("/api/v1/leads/import", {"file": "x"}, format="json")
    assert response.status_code == 415


def test_malformed_rows_are_reported_and_hostile_cells_neutralised_on_export(client_for, manager):
    csv_text = (
        "first_name,last_name,email,phone,source\n"
        "=cmd|' /C calc'!A0,@SUM(1+1),formula@example.com,+44 7000 111111,event\n"
        "OnlyName\n"
        "Too,Many,b@example.com,,event,extra,cells\n"
        '"Unclosed,quote,a@example.com\n'
    )
    report = (
        client_for(manager)
        .post("/api/v1/leads/import", {"file": SimpleUploadedFile("l.csv", csv_text.encode())}, format="multipart")
        .json()
    )
    assert report["created"] == 1
    no_contact = "A lead needs an email or a phone number."  # lead_create's own rule (leads.services)
    assert report["errors"] == [
        {"row": 3, "errors": [no_contact]},
        {"row": 4, "errors": ["more cells than columns"]},
        {"row": 5, "errors": [no_contact]},
    ]
    export = b"".join(client_for(manager).get("/api/v1/leads/export").streaming_content).decode()
    assert "'=cmd" in export and "'@SUM" in export
    assert ",=" not in export and ",@" not in export


def test_notes_are_checked_by_the_service_too(other_consultant, consultant, office):
    """The admin and commands call the service directly: it applies the same visibility rule."""
    lead = LeadFactory(office=office, assigned_to=consultant)
    with pytest.raises(NotFound):
        lead_add_note(actor=other_consultant, lead=lead, text="snooping")
    assert not Activity.objects.filter(lead=lead, kind="note").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_walk_ins_of_one_person_give_one_lead_and_one_conflict(office):
    desks = [ReceptionistFactory(office=office) for _ in range(4)]
    barrier, outcomes = threading.Barrier(4), []

    def walk_in(receptionist):
        try:
            barrier.wait()
            lead_create(actor=receptionist, first_name="Same", email="same.person@example.com")
            outcomes.append("created")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=walk_in, args=(desk,)) for desk in desks]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(outcomes) == ["created"] + ["duplicate_lead"] * 3
    assert Lead.objects.filter(email="same.person@example.com").count() == 1


def test_import_rows_are_numbered_by_their_line_in_the_file(receptionist):
    data = b'first_name,last_name,email\n"Multi\nLine",Name,multi@example.com\nBad,Email,not-an-email\n'
    report = leads_import_csv(actor=receptionist, data=data)
    assert report["created"] == 1 and report["errors"] == [{"row": 4, "errors": ["email is not valid"]}]


def test_import_stops_after_the_row_limit(receptionist, monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_MAX_ROWS", 2)
    data = b"first_name,email\n" + b"".join(f"P{n},p{n}@example.com\n".encode() for n in range(4))
    report = imports.leads_import_csv(actor=receptionist, data=data)
    assert report["created"] == 2 and report["errors"] == [{"row": 4, "errors": ["Only 2 rows per file."]}]
    assert Lead.objects.count() == 2


def test_import_cells_are_checked_by_the_models_own_fields(receptionist, monkeypatch):
    """The lengths and choices come from Lead's fields (leads/imports.py hard-codes none): a cell one
    character over a field's max_length is refused, at whatever length the model has."""
    first_name = Lead._meta.get_field("first_name")
    phone = Lead._meta.get_field("phone")
    over = "x" * (first_name.max_length + 1)
    data = (
        "first_name,last_name,email,phone,source\n"
        f"{over},Long,long@example.com,,\n"
        f"Phone,Long,,{'1' * (phone.max_length + 1)},\n"
        "Fine,Source,fine@example.com,,pigeon\n"
    ).encode()
    report = leads_import_csv(actor=receptionist, data=data)
    assert report["errors"] == [
        {"row": 2, "errors": [f"first_name is too long (at most {first_name.max_length} characters)"]},
        {"row": 3, "errors": [f"phone is too long (at most {phone.max_length} characters)"]},
        {"row": 4, "errors": [f"source must be one of {', '.join(LeadSource.values)}"]},
    ]
    monkeypatch.setattr(first_name, "max_length", 3)  # the model's length is the import's
    monkeypatch.setattr(first_name, "validators", [MaxLengthValidator(3)])  # (Django caches them from max_length)
    report = leads_import_csv(actor=receptionist, data=b"first_name,email\nFour,four@example.com\n")
    assert report["errors"] == [{"row": 2, "errors": ["first_name is too long (at most 3 characters)"]}]
