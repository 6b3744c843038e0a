"""A student with something in every area, made through the services where they exist."""

import io
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import StudentFactory
from appointments.models import Appointment
from documents.models import Document
from documents.services import document_upload
from leads.models import Lead
from leads.services import lead_add_note, lead_assign
from leads.tests.factories import LeadFactory
from messaging.models import Conversation, Message
from messaging.services import message_send_with_files
from messaging.tests.factories import make_conversation, send
from notifications.models import Notification
from notifications.services import notification_create

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n% the student's passport scan\n"
TXT = b"My personal statement, written by Amara.\n"


@dataclass
class World:
    student: User
    lead: Lead
    chat: Conversation
    group: Conversation
    document: Document
    attachment_key: str
    appointment: Appointment


@pytest.fixture
def world(office, manager, consultant, receptionist) -> World:
    student = StudentFactory.create(
        office=office, email="amara.okafor@example.com", first_name="Amara", last_name="Okafor", phone="+447700900123"
    )
    lead: Lead = LeadFactory.create(
        office=office,
        first_name="Amara",
        last_name="Okafor",
        email="amara.okafor@example.com",
        phone="+447700900123",
        student=student,
    )
    lead = lead_assign(
        actor=manager, lead=lead, consultant=consultant
    )  # the consultant is told "New lead: Amara Okafor"
    lead_add_note(actor=consultant, lead=lead, text="Amara wants to study medicine in Toronto.")
    chat = make_conversation(consultant, student, office=office)
    send(student, chat, content="Hello, it is Amara. Here is my question.")
    send(consultant, chat, content="Hi Amara, happy to help.")
    attached, _ = message_send_with_files(
        sender=student,
        conversation=chat,
        files=[SimpleUploadedFile("statement.txt", TXT, content_type="text/plain")],
        content="My statement",
    )
    send(consultant, chat, content="Thanks, received.")
    group = make_conversation(consultant, receptionist, student, office=office, title="Amara Okafor visa")
    send(receptionist, group, content="Visa appointment is booked.")
    document = document_upload(
        actor=student,
        file=SimpleUploadedFile("passport.pdf", PDF, content_type="application/pdf"),
        kind="passport",
        student=student,
    )
    start = timezone.now() + timedelta(days=3)
    appointment = Appointment.objects.create(
        consultant=consultant,
        student=student,
        office=office,
        title="Visa review with Amara Okafor",
        start=start,
        end=start + timedelta(minutes=45),
        notes="Bring the bank statements.",
    )
    read = notification_create(recipient=student, kind="announcement", title="Welcome, Amara")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    return World(
        student=student,
        lead=lead,
        chat=chat,
        group=group,
        document=document,
        attachment_key=attached.attachments.get().file_key,
        appointment=appointment,
    )


def unzip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def stored(key: str) -> bytes:
    with default_storage.open(key, "rb") as handle:
        return handle.read()


def messages_of(conversation: Conversation) -> list[tuple[int, int | None, str, bool]]:
    return [
        (m.seq, m.sender_id, m.content, m.deleted_at is not None)
        for m in Message.objects.filter(conversation=conversation).order_by("seq")
    ]
