"""An open socket holds no right its user lost (issue 20, item 2). When a user's role, office or active
flag changes, whatever the door (the users API, the console, conversion claiming a student), their open
sockets close with 4409 once the change commits, and the client's reconnect signs in with the new
rights. Pushed from the write (an event to the user's group), never checked per frame."""

from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_update
from accounts.tests.factories import ConsultantFactory, ManagerFactory, StudentFactory, SuperAdminFactory
from conftest import access_token_for
from leads.tests.factories import LeadFactory
from messaging import services
from messaging.consumers import CLOSE_RIGHTS_CHANGED
from messaging.tests.factories import make_conversation
from messaging.tests.test_consumer import closed_with, connect, next_event, request
from offices.tests.factories import OfficeFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def api_as(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    return client


@database_sync_to_async
def setting_up() -> SimpleNamespace:
    """A London manager who may monitor the conversation of two London consultants, Alice and Bob."""
    london, toronto = OfficeFactory(name="London"), OfficeFactory(name="Toronto")
    alice, bob = ConsultantFactory(office=london), ConsultantFactory(office=london)
    return SimpleNamespace(
        admin=SuperAdminFactory(),
        manager=ManagerFactory(office=london),
        alice=alice,
        chat=make_conversation(alice, bob, office=london),
        toronto=toronto,
    )


def patch_over_rest(admin, manager, change):
    answer = api_as(admin).patch(f"/api/v1/users/{manager.id}", change, format="json")
    assert answer.status_code == 200, answer.content


def change_in_the_console(admin, manager, change):
    console = Client()
    console.force_login(admin)
    form = {"email": manager.email, "first_name": "M", "last_name": "M", "phone": "", "role": manager.role}
    form["office"] = manager.office_id
    form.update({"office": change["office_id"]} if "office_id" in change else change)
    answer = console.post(f"/admin/accounts/user/{manager.pk}/change/", form)
    assert answer.status_code == 302, answer.content.decode()[:2000]


DOORS = {"rest": patch_over_rest, "console": change_in_the_console}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("what", ["demoted", "moved"])
async def test_a_monitor_who_loses_the_right_stops_receiving_the_conversation_at_once(door, what):
    it = await setting_up()
    socket = await connect(it.manager)
    joined = await request(socket, "join_conversation", {"conversation_id": it.chat.id})
    assert joined["data"]["read_only"] is True
    await database_sync_to_async(services.message_send)(sender=it.alice, conversation=it.chat, content="watched")
    assert (await next_event(socket, "message_received"))["content"] == "watched"

    change = {"role": Role.CONSULTANT} if what == "demoted" else {"office_id": it.toronto.id}
    await database_sync_to_async(DOORS[door])(it.admin, it.manager, change)
    assert await closed_with(socket) == CLOSE_RIGHTS_CHANGED
    await database_sync_to_async(services.message_send)(sender=it.alice, conversation=it.chat, content="after")
    assert await socket.receive_nothing(timeout=0.5)

    # the client reconnects with the same token: signed in, with the rights it has now
    again = await connect(it.manager)
    refused = await request(again, "join_conversation", {"conversation_id": it.chat.id})
    assert refused["event"] == "error" and refused["data"]["code"] == "not_found"
    await again.disconnect()


async def test_every_socket_of_the_user_closes_and_nobody_elses():
    it = await setting_up()
    first, second, bystander = await connect(it.manager), await connect(it.manager), await connect(it.alice)
    await database_sync_to_async(user_update)(actor=it.admin, user=it.manager, role=Role.CONSULTANT)
    assert await closed_with(first) == CLOSE_RIGHTS_CHANGED
    assert await closed_with(second) == CLOSE_RIGHTS_CHANGED
    assert (await request(bystander, "ping"))["event"] == "ack"
    await bystander.disconnect()


async def test_a_change_that_moves_no_right_keeps_the_socket():
    it = await setting_up()
    socket = await connect(it.manager)
    await request(socket, "join_conversation", {"conversation_id": it.chat.id})
    await database_sync_to_async(user_update)(actor=it.admin, user=it.manager, first_name="Renamed", phone="+44 1")
    await database_sync_to_async(user_update)(
        actor=it.admin, user=it.manager, role=Role.MANAGER, office=it.manager.office
    )
    await database_sync_to_async(services.message_send)(sender=it.alice, conversation=it.chat, content="still watched")
    assert (await next_event(socket, "message_received"))["content"] == "still watched"
    await socket.disconnect()


async def test_a_change_that_is_rolled_back_closes_nothing():
    it = await setting_up()
    socket = await connect(it.manager)

    @database_sync_to_async
    def refused_change():
        try:
            with transaction.atomic():
                user_update(actor=it.admin, user=it.manager, role=Role.CONSULTANT)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    await refused_change()
    assert await socket.receive_nothing(timeout=0.5)
    assert (await request(socket, "ping"))["event"] == "ack"
    await socket.disconnect()


async def test_a_student_claimed_by_an_office_reconnects_with_it():
    """Conversion gives a website signup the lead's office: another door that changes an office."""
    it = await setting_up()
    student = await database_sync_to_async(StudentFactory)(office=None)
    lead = await database_sync_to_async(LeadFactory)(office=it.manager.office, email=student.email, student=student)
    socket = await connect(student)
    answer = await database_sync_to_async(lambda: api_as(it.manager).post(f"/api/v1/leads/{lead.id}/convert"))()
    assert answer.status_code == 200
    assert await closed_with(socket) == CLOSE_RIGHTS_CHANGED
