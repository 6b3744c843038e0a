"""`application_updated` on real sockets (Channels' communicator, the real consumer, Redis): the student,
the consultant and the office's managers hear every move after it commits; nobody else does."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from accounts.tests.factories import ConsultantFactory, ManagerFactory, StudentFactory
from applications.services import application_open, application_transition
from applications.transitions import ApplicationStatus
from catalogue.tests.factories import CourseFactory
from messaging import asyncapi_payloads
from messaging.tests.test_consumer import connect
from offices.tests.factories import OfficeFactory
from study.vocabulary import parse_intake


def test_the_asyncapi_names_every_status():
    assert ApplicationStatus.values == asyncapi_payloads.APPLICATION_STATUSES


async def frames(communicator, *, timeout: float = 1.0) -> list[dict]:
    """Every frame the socket receives until it stays quiet for `timeout` seconds."""
    out = []
    while not await communicator.receive_nothing(timeout=timeout):  # (a receive that times out stops the consumer)
        out.append(json.loads(await communicator.receive_from()))
    return out


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_moves_reach_the_people_concerned_live_and_nobody_else():
    make = database_sync_to_async
    office, elsewhere = await make(OfficeFactory)(name="Leeds"), await make(OfficeFactory)(name="York")
    consultant = await make(ConsultantFactory)(office=office)
    manager = await make(ManagerFactory)(office=office)
    colleague = await make(ConsultantFactory)(office=office)
    other_manager = await make(ManagerFactory)(office=elsewhere)
    student = await make(StudentFactory)(office=office)
    course = await make(CourseFactory)(intakes=[9])
    sockets = {user.pk: await connect(user) for user in (student, consultant, manager, colleague, other_manager)}
    await asyncio.gather(*(frames(socket, timeout=0.3) for socket in sockets.values()))  # ready, presence

    @make
    def moves():
        application = application_open(
            actor=consultant, student=student, course=course, intake=parse_intake("2099-09"), consultant=consultant
        )
        application_transition(
            actor=manager, application=application, data={"to": "withdrawn", "note": "Went elsewhere"}
        )
        return application

    application = await moves()
    received = await asyncio.gather(*(frames(socket) for socket in sockets.values()))
    for user_id, got in zip(sockets, received, strict=True):
        events = [f["data"] for f in got if f["event"] == "application_updated"]
        if user_id in (student.pk, consultant.pk, manager.pk):
            assert [(e["id"], e["status"]) for e in events] == [
                (application.pk, "draft"),
                (application.pk, "withdrawn"),
            ]
            assert "commission" not in json.dumps(events)
        else:
            assert events == [], user_id
    for socket in sockets.values():
        await socket.disconnect()
