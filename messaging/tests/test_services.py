import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import ConsultantFactory, StudentFactory
from core.errors import Forbidden, NotFound, ValidationFailed
from leads.tests.factories import LeadFactory
from messaging import selectors, services
from messaging.models import Conversation, Message, Participant
from messaging.services import receipts
from messaging.tests.factories import make_conversation, send
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_send_numbers_messages_and_pushes_after_commit(manager, consultant, inbox, django_capture_on_commit_callbacks):
    conversation = make_conversation(manager, consultant)
    consultant_inbox = inbox(consultant)
    with django_capture_on_commit_callbacks(execute=True):
        first = send(manager, conversation, "one")
        second = send(consultant, conversation, "two")
    assert (first.seq, second.seq) == (1, 2)
    received = [data["seq"] for event, data in consultant_inbox() if event == "message_received"]
    assert received == [1, 2]
    conversation.refresh_from_db()
    assert conversation.last_seq == 2 and conversation.last_message_id == second.id


def test_nothing_is_pushed_for_a_rolled_back_send(manager, consultant, inbox, django_capture_on_commit_callbacks):
    conversation = make_conversation(manager, consultant)
    consultant_inbox = inbox(consultant)

    def send_then_fail():
        with transaction.atomic():
            send(manager, conversation, "never")
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        send_then_fail()
    assert callbacks == [] and consultant_inbox() == []
    assert not Message.objects.exists()


def test_client_id_makes_sends_idempotent(manager, consultant):
    conversation = make_conversation(manager, consultant)
    first, created = services.message_send(sender=manager, conversation=conversation, content="hi", client_id="abc")
    again, created_again = services.message_send(
        sender=manager, conversation=conversation, content="hi", client_id="abc"
    )
    assert created and not created_again and first.id == again.id
    # another sender may use the same client_id
    other, created_other = services.message_send(
        sender=consultant, conversation=conversation, content="hi", client_id="abc"
    )
    assert created_other and other.id != first.id
    assert Message.objects.count() == 2


def test_client_id_cannot_move_between_conversations(manager, consultant, receptionist):
    services.message_send(
        sender=manager, conversation=make_conversation(manager, consultant), content="a", client_id="k"
    )
    with pytest.raises(ValidationFailed):
        services.message_send(
            sender=manager, conversation=make_conversation(manager, receptionist), content="a", client_id="k"
        )


def _race(workers):
    errors = []
    barrier = threading.Barrier(len(workers))

    def run(work):
        try:
            barrier.wait()
            work()
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_sends_get_seq_1_to_20(office):
    people = [ConsultantFactory(office=office) for _ in range(4)]
    conversation = make_conversation(*people)
    errors = _race([lambda i=i: send(people[i % 4], conversation, f"m{i}") for i in range(20)])
    assert errors == []
    assert sorted(Message.objects.filter(conversation=conversation).values_list("seq", flat=True)) == list(range(1, 21))
    conversation.refresh_from_db()
    assert conversation.last_seq == 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_client_id_stores_one_message(office):
    a, b = ConsultantFactory(office=office), ConsultantFactory(office=office)
    conversation = make_conversation(a, b)
    results = []
    errors = _race(
        [
            lambda: results.append(
                services.message_send(sender=a, conversation=conversation, content="x", client_id="dup")
            )
            for _ in range(6)
        ]
    )
    assert errors == []
    assert Message.objects.filter(client_id="dup").count() == 1
    assert len({message.id for message, _ in results}) == 1
    assert sum(created for _, created in results) == 1


@pytest.mark.parametrize(
    "content, code",
    [("", "empty_message"), ("   ", "empty_message"), ("x" * 10001, "message_too_long"), ("a\x00b", "invalid_content")],
)
def test_bad_content_is_refused(manager, consultant, content, code):
    conversation = make_conversation(manager, consultant)
    with pytest.raises(ValidationFailed) as error:
        send(manager, conversation, content)
    assert error.value.code == code
    assert not Message.objects.exists()


def test_reply_must_be_in_the_same_conversation(manager, consultant, receptionist):
    here = make_conversation(manager, consultant)
    elsewhere = send(manager, make_conversation(manager, receptionist), "other")
    with pytest.raises(ValidationFailed):
        send(manager, here, "re", reply_to_id=elsewhere.id)
    original = send(manager, here, "q")
    assert send(consultant, here, "a", reply_to_id=original.id).reply_to_id == original.id


@override_settings(PROFANITY_MODE="mask", PROFANITY_WORDS=["darn"])
def test_profanity_is_masked_on_word_boundaries(manager, consultant):
    conversation = make_conversation(manager, consultant)
    assert send(manager, conversation, "Darn it, darned thing").content == "**** it, darned thing"


@override_settings(PROFANITY_MODE="reject", PROFANITY_WORDS=["darn"])
def test_profanity_can_be_refused(manager, consultant):
    with pytest.raises(ValidationFailed) as error:
        send(manager, make_conversation(manager, consultant), "darn")
    assert error.value.code == "profanity"


@override_settings(PROFANITY_MODE="off", PROFANITY_WORDS=["darn"])
def test_profanity_filter_can_be_off(manager, consultant):
    assert send(manager, make_conversation(manager, consultant), "darn").content == "darn"


def test_edit_rules(manager, consultant, receptionist, settings):
    conversation = make_conversation(manager, consultant)
    message = send(manager, conversation, "first")
    edited = services.message_edit(actor=manager, message=message, content="second")
    assert edited.content == "second" and edited.edited_at is not None
    with pytest.raises(Forbidden):
        services.message_edit(actor=consultant, message=message, content="hijack")
    with pytest.raises(NotFound):
        services.message_edit(actor=receptionist, message=message, content="outsider")
    settings.MESSAGE_EDIT_TIME_LIMIT = 1000
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(seconds=2))
    with pytest.raises(Forbidden) as error:
        services.message_edit(actor=manager, message=message, content="late")
    assert error.value.code == "edit_window_passed"


def test_delete_by_sender_or_monitor_keeps_the_row(manager, consultant, office):
    colleague = ConsultantFactory(office=office)
    conversation = make_conversation(consultant, colleague, office=office)
    message = send(consultant, conversation, "secret")
    with pytest.raises(Forbidden):
        services.message_delete(actor=colleague, message=message)
    services.message_delete(actor=manager, message=message)  # the office's manager moderates
    message.refresh_from_db()
    assert message.deleted_at is not None and message.deleted_by == manager
    assert Message.objects.filter(pk=message.pk).exists()


def test_mark_read_moves_forward_only_and_marks_everything_before(manager, consultant):
    conversation = make_conversation(manager, consultant)
    messages = [send(manager, conversation, f"m{i}") for i in range(5)]
    services.message_mark_read(user=consultant, message=messages[3])
    assert Participant.objects.get(user=consultant).last_read_seq == 4
    services.message_mark_read(user=consultant, message=messages[1])
    membership = Participant.objects.get(user=consultant)
    assert membership.last_read_seq == 4 and membership.last_delivered_seq == 4


def test_delivered_pointer_tells_the_others(manager, consultant, inbox, django_capture_on_commit_callbacks):
    conversation = make_conversation(manager, consultant)
    send(manager, conversation, "m")
    manager_inbox = inbox(manager)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.deliveries_record(reached={(consultant.id, conversation.id): 1}) == [
            (conversation.id, consultant.id, 1)
        ]
        assert (
            services.deliveries_record(reached={(consultant.id, conversation.id): 1}) == []
        )  # never twice, never back
    assert manager_inbox() == [
        ("message_delivered", {"conversation_id": conversation.id, "user_id": consultant.id, "seq": 1})
    ]


def statements(captured) -> list[str]:
    """What a service runs, less the savepoints its atomic block adds inside a test's transaction."""
    return [q["sql"] for q in captured if not (q["sql"] or "").startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_a_send_is_one_statement_and_leaves_the_conversation_consistent(manager, consultant):
    conversation = make_conversation(manager, consultant)
    with CaptureQueriesContext(connection) as captured:
        message, created = services.message_send(
            sender=manager, conversation=Conversation(pk=conversation.pk), content="hi"
        )
    assert len(statements(captured)) == 1
    assert created and message.seq == 1
    stored = Message.objects.get(pk=message.pk)
    assert (stored.content, stored.sender_id, stored.created_at) == ("hi", manager.id, message.created_at)
    conversation.refresh_from_db()
    assert (conversation.last_seq, conversation.last_message_id) == (1, message.id)
    mine = Participant.objects.get(conversation=conversation, user=manager)
    assert (mine.last_read_seq, mine.last_delivered_seq) == (1, 1)  # writing is reading
    assert Participant.objects.get(conversation=conversation, user=consultant).last_read_seq == 0


def test_a_non_member_send_changes_nothing(manager, consultant, receptionist):
    conversation = make_conversation(manager, consultant)
    with pytest.raises(NotFound):
        services.message_send(sender=receptionist, conversation=Conversation(pk=conversation.pk), content="let me in")
    with pytest.raises(NotFound):
        services.message_send(sender=receptionist, conversation=Conversation(pk=10**9), content="nowhere")
    conversation.refresh_from_db()
    assert conversation.last_seq == 0 and conversation.last_message_id is None and not Message.objects.exists()
    assert send(manager, conversation, "first").seq == 1  # no gap left behind


@pytest.mark.parametrize("huge", [2**63, 10**30])
def test_ids_beyond_the_database_range_are_refused_cleanly(manager, consultant, huge):
    conversation = make_conversation(manager, consultant)
    with pytest.raises(NotFound):
        services.message_send(sender=manager, conversation=Conversation(pk=huge), content="x")
    with pytest.raises(ValidationFailed) as error:
        services.message_send(sender=manager, conversation=conversation, content="x", reply_to_id=huge)
    assert error.value.code == "invalid_reply_to" and not Message.objects.exists()


def test_a_former_participant_cannot_replay_a_client_id(manager, consultant, receptionist):
    conversation = make_conversation(manager, consultant, receptionist)
    send(receptionist, conversation, "before", client_id="r-1")
    services.participants_remove(actor=manager, conversation=conversation, user_id=receptionist.id)
    with pytest.raises(NotFound):
        services.message_send(sender=receptionist, conversation=conversation, content="before", client_id="r-1")


def test_deliveries_of_a_whole_process_are_one_statement(manager, consultant, receptionist):
    first = make_conversation(manager, consultant, receptionist)
    second = make_conversation(consultant, manager)
    for n in range(3):
        send(manager, first, f"m{n}")
    send(receptionist, first, "mine")  # seq 4: the receptionist's pointers are at 4 already
    send(consultant, second, "other")
    reached = {
        (consultant.id, first.id): 4,
        (receptionist.id, first.id): 2,
        (manager.id, second.id): 1,
        (receptionist.id, second.id): 1,
    }  # not a participant there: ignored
    with CaptureQueriesContext(connection) as captured:
        moved = services.deliveries_record(reached=reached)
    assert len(statements(captured)) == 1
    assert moved == [(first.id, consultant.id, 4), (second.id, manager.id, 1)]
    delivered = dict(Participant.objects.filter(conversation=first).values_list("user_id", "last_delivered_seq"))
    assert delivered == {manager.id: 3, consultant.id: 4, receptionist.id: 4}  # never backwards


def test_deliveries_move_in_chunks_each_its_own_transaction(
    manager, consultant, receptionist, inbox, monkeypatch, django_capture_on_commit_callbacks
):
    """A send also updates its sender's row, so a batch of pointers is moved DELIVERIES_CHUNK at a
    time (a send waits for one chunk, not the batch); the events still go out once, together."""
    monkeypatch.setattr(receipts, "DELIVERIES_CHUNK", 2)
    conversation = make_conversation(manager, consultant, receptionist)
    others = [make_conversation(manager, consultant) for _ in range(2)]
    for chat in [conversation, *others]:
        send(manager, chat, "m")
    reached = {(consultant.id, conversation.id): 1, (receptionist.id, conversation.id): 1}
    reached.update({(consultant.id, chat.id): 1 for chat in others})
    manager_inbox = inbox(manager)
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        moved = services.deliveries_record(reached=reached)
    assert len([sql for sql in statements(captured) if "UPDATE" in sql]) == 2
    assert sorted(moved) == sorted((chat, user, 1) for user, chat in reached)
    assert sorted(data["user_id"] for event, data in manager_inbox() if event == "message_delivered") == sorted(
        user for user, _ in reached
    )


def test_direct_conversations_are_unique_per_pair(consultant, receptionist):
    first, created = services.conversation_create(actor=consultant, type="direct", participant_ids=[receptionist.id])
    again, created_again = services.conversation_create(
        actor=receptionist, type="direct", participant_ids=[consultant.id]
    )
    assert created and not created_again and first.id == again.id


def test_the_database_refuses_a_second_direct_conversation(consultant, receptionist):
    services.conversation_ensure_direct(user_a=consultant, user_b=receptionist)
    with pytest.raises(IntegrityError):
        Conversation.objects.create(
            type="direct",
            direct_key=Conversation.direct_key_for(receptionist.id, consultant.id),
            last_activity_at=timezone.now(),
        )


def test_contact_rules(office, manager, consultant, receptionist, other_consultant, super_admin):
    student = StudentFactory(office=office)
    LeadFactory(office=office, student=student, assigned_to=consultant)
    loner = StudentFactory(office=None)
    services.conversation_create(actor=student, type="direct", participant_ids=[consultant.id])
    services.conversation_create(actor=student, type="direct", participant_ids=[receptionist.id])
    with pytest.raises(NotFound):
        services.conversation_create(actor=student, type="direct", participant_ids=[other_consultant.id])
    with pytest.raises(NotFound):
        services.conversation_create(actor=student, type="direct", participant_ids=[super_admin.id])
    with pytest.raises(NotFound):
        services.conversation_create(actor=consultant, type="direct", participant_ids=[other_consultant.id])
    with pytest.raises(NotFound):
        services.conversation_create(actor=loner, type="direct", participant_ids=[consultant.id])
    services.conversation_create(actor=super_admin, type="group", participant_ids=[other_consultant.id, student.id])


def test_group_size_is_capped(office, manager, settings):
    settings.MAX_CONVERSATION_PARTICIPANTS = 3
    people = [ConsultantFactory(office=office) for _ in range(3)]
    with pytest.raises(ValidationFailed) as error:
        services.conversation_create(actor=manager, type="group", participant_ids=[p.id for p in people])
    assert error.value.code == "too_many_participants"
    conversation, _ = services.conversation_create(
        actor=manager, type="group", participant_ids=[p.id for p in people[:2]]
    )
    with pytest.raises(ValidationFailed):
        services.participants_add(actor=manager, conversation=conversation, user_ids=[people[2].id])


def test_removed_participant_loses_access_and_is_told(
    manager, consultant, receptionist, inbox, django_capture_on_commit_callbacks
):
    conversation, _ = services.conversation_create(
        actor=manager, type="group", participant_ids=[consultant.id, receptionist.id]
    )
    removed_inbox = inbox(receptionist)
    with django_capture_on_commit_callbacks(execute=True):
        services.participants_remove(actor=manager, conversation=conversation, user_id=receptionist.id)
    assert (
        "user_left_conversation",
        {"conversation_id": conversation.id, "user_id": receptionist.id},
    ) in removed_inbox()
    with pytest.raises(NotFound):
        selectors.conversation_get_for(receptionist, conversation.id)
    with pytest.raises(NotFound):
        send(receptionist, conversation, "still here?")
    with pytest.raises(Forbidden):
        services.participants_remove(actor=consultant, conversation=conversation, user_id=manager.id)


def test_leaving_hands_admin_to_the_next_person(manager, consultant, receptionist):
    conversation, _ = services.conversation_create(
        actor=manager, type="group", participant_ids=[consultant.id, receptionist.id]
    )
    services.conversation_leave(actor=manager, conversation=conversation)
    assert Participant.objects.get(conversation=conversation, user=consultant).role == "admin"


def test_participant_replace_moves_history_to_the_new_consultant(office, consultant, super_admin):
    student = StudentFactory(office=office)
    newcomer = ConsultantFactory(office=office)
    conversation = services.conversation_ensure_direct(user_a=student, user_b=consultant)
    send(student, conversation, "hello")
    services.participant_replace(conversation=conversation, old_user=consultant, new_user=newcomer, actor=super_admin)
    conversation.refresh_from_db()
    assert set(Participant.objects.filter(conversation=conversation).values_list("user_id", flat=True)) == {
        student.id,
        newcomer.id,
    }
    assert conversation.direct_key == Conversation.direct_key_for(student.id, newcomer.id)
    assert conversation.messages.count() == 1
    assert services.conversation_ensure_direct(user_a=newcomer, user_b=student).id == conversation.id


def test_adding_someone_notifies_them(manager, consultant, django_capture_on_commit_callbacks):
    services.conversation_create(actor=manager, type="group", participant_ids=[consultant.id], title="Team")
    assert Notification.objects.filter(recipient=consultant, kind="conversation_added").count() == 1
    assert not Notification.objects.filter(recipient=manager).exists()
