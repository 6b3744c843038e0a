"""POST users/{id}/erase: who may (per role, other office included), every refusal in the one error shape
with nothing changed, and what the people around the erased person notice afterwards."""

import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, StudentFactory, SuperAdminFactory
from conftest import access_token_for
from core.errors import ApplicationError
from core.privacy import REMOVED
from core.realtime import SESSION_REVOKE_TYPE
from devices.models import Device
from documents.models import Document
from leads.models import Activity, Lead
from messaging.models import Conversation, MissedMessageMark
from messaging.tests.factories import send
from notifications.models import Notification, NotificationPreference
from privacy import services
from privacy.models import PrivacyAction, PrivacyAudit
from privacy.tests.conftest import messages_of

pytestmark = pytest.mark.django_db
REASON = {"reason": "Asked to be forgotten (email of 3 March)"}


def erase(client_for, actor, person, body=REASON):
    return client_for(actor).post(f"/api/v1/users/{person.pk}/erase", body)


def assert_untouched(person: User) -> None:
    person.refresh_from_db()
    assert person.erased_at is None and person.is_active and person.first_name == "Amara"
    assert not PrivacyAudit.objects.filter(action=PrivacyAction.ERASE).exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [("super_admin", 200), ("manager", 403), ("consultant", 403), ("receptionist", 403), ("student", 404)],
)
def test_only_the_super_admin_erases(role, expected, actors, client_for, world):
    response = erase(client_for, actors[role], world.student)
    assert response.status_code == expected
    if expected != 200:
        assert set(response.json()["error"]) == {"code", "message", "details"}
        assert_untouched(world.student)


def test_another_offices_manager_gets_404(client_for, world, other_manager):
    response = erase(client_for, other_manager, world.student)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert_untouched(world.student)


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 1001}, {"reason": ["a list"]}],
    ids=["missing", "empty", "blank", "too long", "not text"],
)
def test_a_reason_is_required(client_for, super_admin, world, body):
    response = erase(client_for, super_admin, world.student, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
    assert "reason" in response.json()["error"]["details"]
    assert_untouched(world.student)


def test_erasing_yourself_is_refused(client_for, super_admin):
    SuperAdminFactory()  # not the last one either
    response = erase(client_for, super_admin, super_admin)
    assert response.status_code == 403 and response.json()["error"]["code"] == "cannot_erase_self"
    super_admin.refresh_from_db()
    assert super_admin.erased_at is None


def test_legal_hold_blocks_erasure_until_lifted(client_for, super_admin, world):
    hold = client_for(super_admin).put(
        f"/api/v1/users/{world.student.pk}/legal-hold", {"legal_hold": True, "reason": "Visa fraud inquiry"}
    )
    assert hold.status_code == 200 and hold.json() == {"user_id": world.student.pk, "legal_hold": True}
    refused = erase(client_for, super_admin, world.student)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "legal_hold" and "legal hold" in refused.json()["error"]["message"]
    assert_untouched(world.student)
    lifted = client_for(super_admin).put(
        f"/api/v1/users/{world.student.pk}/legal-hold", {"legal_hold": False, "reason": "Inquiry closed"}
    )
    assert lifted.json()["legal_hold"] is False
    assert erase(client_for, super_admin, world.student).status_code == 200
    actions = list(PrivacyAudit.objects.order_by("id").values_list("action", "reason"))
    assert actions == [
        (PrivacyAction.LEGAL_HOLD_ON, "Visa fraud inquiry"),
        (PrivacyAction.LEGAL_HOLD_OFF, "Inquiry closed"),
        (PrivacyAction.ERASE, REASON["reason"]),
    ]


@pytest.mark.parametrize(("role", "expected"), [("manager", 403), ("student", 404)])
def test_only_the_super_admin_sets_a_legal_hold(role, expected, actors, client_for, world):
    body = {"legal_hold": True, "reason": "because"}
    assert client_for(actors[role]).put(f"/api/v1/users/{world.student.pk}/legal-hold", body).status_code == expected
    world.student.refresh_from_db()
    assert world.student.legal_hold is False


def test_erasure_is_final(client_for, super_admin, world):
    assert erase(client_for, super_admin, world.student).status_code == 200
    again = erase(client_for, super_admin, world.student)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_erased"
    assert PrivacyAudit.objects.filter(action=PrivacyAction.ERASE).count() == 1


def test_what_identifies_the_person_is_gone_and_the_audit_says_who_when_why(
    client_for, super_admin, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # files go once the erasure commits
        response = erase(client_for, super_admin, world.student)
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == world.student.pk and body["removed"]["messages removed"] == 2

    person = User.objects.get(pk=world.student.pk)
    assert (person.first_name, person.last_name, person.phone) == ("Erased", "user", "")
    assert person.email == f"erased-{person.pk}@erased.invalid" and not person.is_active
    assert person.erased_at is not None and not person.has_usable_password()
    lead = Lead.objects.get(pk=world.lead.pk)
    assert (lead.first_name, lead.last_name, lead.email, lead.phone) == (REMOVED, "", "", "")
    assert lead.status == world.lead.status  # the numbers stay
    assert not Activity.objects.filter(lead=lead).exclude(text="").exists()
    document = Document.objects.get(pk=world.document.pk)
    assert document.file_name == REMOVED and document.deleted_at is not None
    assert not default_storage.exists(world.document.file_key)
    assert not default_storage.exists(world.attachment_key)
    world.appointment.refresh_from_db()
    assert (world.appointment.title, world.appointment.notes) == ("Appointment", "")
    assert Conversation.objects.get(pk=world.group.pk).title == f"{REMOVED} visa"
    assert not Notification.objects.filter(recipient=person).exists()

    audit = PrivacyAudit.objects.get(action=PrivacyAction.ERASE)
    assert (audit.actor, audit.subject, audit.reason) == (super_admin, person, REASON["reason"])
    assert audit.created_at >= person.erased_at


def test_the_person_can_no_longer_get_in(client_for, super_admin, world):
    refresh = APIClient().post("/api/v1/auth/login", {"email": world.student.email, "password": PASSWORD}).json()
    access = access_token_for(world.student)
    erase(client_for, super_admin, world.student)
    client = APIClient()
    assert client.post("/api/v1/auth/login", {"email": world.student.email, "password": PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/refresh", {"refresh": refresh["refresh"]}).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/v1/auth/me").status_code == 401


def test_their_sockets_close_and_the_others_see_the_messages_removed(
    client_for, super_admin, world, consultant, inbox, django_capture_on_commit_callbacks
):
    student_sockets, consultant_sockets = inbox(world.student), inbox(consultant)
    with django_capture_on_commit_callbacks(execute=True):
        assert erase(client_for, super_admin, world.student).status_code == 200
    assert (SESSION_REVOKE_TYPE, None) in student_sockets()
    removed = [data for event, data in consultant_sockets() if event == "message_deleted"]
    assert sorted((d["conversation_id"], d["seq"]) for d in removed) == [(world.chat.pk, 1), (world.chat.pk, 3)]
    assert all(d["content"] == "" and d["deleted"] and d["sender"]["first_name"] == "Erased" for d in removed)


def test_histories_keep_every_seq_and_new_sends_continue(client_for, super_admin, world, consultant):
    erase(client_for, super_admin, world.student)
    history = client_for(consultant).get(f"/api/v1/conversations/{world.chat.pk}/messages").json()["results"]
    shown = sorted((m["seq"], m["deleted"], m["content"]) for m in history)
    assert shown == [
        (1, True, ""),
        (2, False, "Hi Amara, happy to help."),  # what others wrote is theirs: kept as written
        (3, True, ""),
        (4, False, "Thanks, received."),
    ]
    assert [m["attachments"] for m in history if m["seq"] == 3] == [[]]
    assert send(consultant, world.chat, content="Anyone there?").seq == 5
    assert messages_of(world.chat)[0][1] == world.student.pk  # the row still names its (pseudonymised) sender


def test_search_no_longer_finds_what_they_wrote(client_for, super_admin, world, consultant):
    search = lambda: client_for(consultant).get("/api/v1/messages/search", {"q": "question"}).json()["results"]  # noqa: E731
    assert len(search()) == 1
    erase(client_for, super_admin, world.student)
    assert search() == []


def test_people_who_named_them_see_it_removed(client_for, super_admin, world, consultant):
    assert Notification.objects.filter(recipient=consultant, title__contains="Amara Okafor").exists()
    erase(client_for, super_admin, world.student)
    titles = list(Notification.objects.filter(recipient=consultant).values_list("title", flat=True))
    assert titles and not [t for t in titles if "Amara Okafor" in t or "amara.okafor" in t]
    assert f"New lead: {REMOVED}" in titles


def test_report_numbers_stay_the_same(client_for, super_admin, world):
    before = {name: client_for(super_admin).get(f"/api/v1/reports/{name}").json() for name in ("leads", "messages")}
    erase(client_for, super_admin, world.student)
    after = {name: client_for(super_admin).get(f"/api/v1/reports/{name}").json() for name in ("leads", "messages")}
    assert after == before


def test_erasing_a_consultant_keeps_their_students_records(client_for, super_admin, world, consultant):
    assert erase(client_for, super_admin, consultant).status_code == 200
    lead = Lead.objects.get(pk=world.lead.pk)
    assert lead.assigned_to_id == consultant.pk and lead.first_name == "Amara"  # the student's lead is not theirs
    world.appointment.refresh_from_db()
    assert world.appointment.consultant_id == consultant.pk and world.appointment.notes
    assert messages_of(world.chat)[0][2] == "Hello, it is Amara. Here is my question."


def test_another_students_data_is_untouched(client_for, super_admin, world, office, consultant):
    other = StudentFactory(office=office, first_name="Omar", last_name="Haddad")
    from messaging.tests.factories import make_conversation  # noqa: PLC0415

    chat = make_conversation(consultant, other, office=office)
    send(other, chat, content="Omar here")
    erase(client_for, super_admin, world.student)
    other.refresh_from_db()
    assert other.first_name == "Omar" and other.is_active
    assert messages_of(chat) == [(1, other.pk, "Omar here", False)]


@pytest.mark.django_db(transaction=True)
def test_two_super_admins_erasing_each_other_at_once_leave_one(office):
    first, second = SuperAdminFactory(), SuperAdminFactory()
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def run(actor, person):
        try:
            barrier.wait()
            services.person_erase(actor=actor, person=person, reason="test")
            outcomes[actor.pk] = "erased"
        except ApplicationError as exc:
            outcomes[actor.pk] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["erased", "permission_denied"]
    assert User.objects.filter(role="super_admin", erased_at__isnull=True, is_active=True).count() == 1


@pytest.mark.parametrize(("role", "expected"), [("super_admin", 200), ("manager", 403), ("consultant", 403)])
def test_the_console_shows_the_privacy_audit_to_the_super_admin_only(role, expected, actors, client, world):
    services.person_erase(actor=actors["super_admin"], person=world.student, reason="Asked to be forgotten")
    client.force_login(actors[role])
    page = client.get("/admin/privacy/privacyaudit/")
    assert page.status_code == expected
    if expected == 200:
        assert "Asked to be forgotten" in page.content.decode()


def test_no_push_or_email_reaches_them_afterwards(client_for, super_admin, world):
    """Their phones and browsers stop being push targets, and their preferences and missed-message marks go."""
    client_for(world.student).post("/api/v1/devices", {"kind": "fcm", "token": "phone-of-amara"}, format="json")
    client_for(world.student).patch("/api/v1/notification-preferences", {"private_previews": True}, format="json")
    MissedMessageMark.objects.create(user=world.student, conversation=world.chat, seq=1)
    assert Device.objects.filter(user=world.student).exists()
    assert NotificationPreference.objects.filter(user=world.student).exists()

    assert erase(client_for, super_admin, world.student).status_code == 200
    assert not Device.objects.filter(user=world.student).exists()
    assert not NotificationPreference.objects.filter(user=world.student).exists()
    assert not MissedMessageMark.objects.filter(user=world.student).exists()
