"""Realistic demo data through the same services the API uses. Idempotent per office."""

import io
import random
import sys
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from accounts.models import Role, User
from accounts.services import user_create
from appointments.services import appointment_book
from documents.models import DocumentKind
from documents.services import document_upload
from leads.models import LeadSource, LeadStatus
from leads.services import lead_assign, lead_change_status, lead_convert, lead_create
from messaging.services import conversation_ensure_direct, message_send
from offices.models import Office

PASSWORD = "demo-Pass-2024"
OFFICES = [
    ("London", "Europe/London", "221B Baker Street"),
    ("Toronto", "America/Toronto", "100 Queen St W"),
    ("Sydney", "Australia/Sydney", "1 Macquarie St"),
    ("Dubai", "Asia/Dubai", "Sheikh Zayed Rd"),
    ("Singapore", "Asia/Singapore", "1 Raffles Place"),
]
FIRST = (
    "Amara Ben Chen Dara Eli Farah Gus Hana Ivo Jia Kai Lena Milo Nia Omar Pia Quinn Rui Sana Tomas Uma Vik Wen "
    "Yara Zane"
).split()
LAST = "Okafor Silva Nguyen Kowalski Haddad Tanaka Murphy Costa Ibrahim Larsen Patel Novak Rossi Kim Mensah".split()
SIZES = {"small": 1, "medium": 3, "large": 10}
LOST_REASONS = ["Too expensive", "Chose another agency", "Postponed studies"]


def transcript_pdf(name: str) -> bytes:
    """A one-page PDF a reviewer can read in the console's preview."""
    page = Image.new("RGB", (595, 842), "white")
    draw = ImageDraw.Draw(page)
    title, body = ImageFont.load_default(size=28), ImageFont.load_default(size=16)
    draw.text((60, 70), "Academic transcript", font=title, fill="black")
    draw.text((60, 120), name, font=body, fill="black")
    grades = [("Mathematics", "A"), ("Physics", "A-"), ("English", "B+"), ("History", "A")]
    for row, (subject, grade) in enumerate(grades):
        draw.text((60, 180 + 30 * row), subject, font=body, fill="black")
        draw.text((400, 180 + 30 * row), grade, font=body, fill="black")
    buffer = io.BytesIO()
    page.save(buffer, "PDF")
    return buffer.getvalue()


class Command(BaseCommand):
    help = (
        "Create demo offices, staff of every role, students, leads across the pipeline, appointments, documents "
        "and conversations with messages. Idempotent: an office that exists is left alone. Every account's "
        f"password is {PASSWORD}."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(SIZES), default="small", help="how much data per office")
        parser.add_argument("--offices", type=int, default=3, help=f"how many offices (1-{len(OFFICES)})")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any office exists (first start)")

    def handle(self, *args, size, offices, if_empty, **options):
        if if_empty and Office.objects.exists():
            self.stdout.write("Data exists; not seeding.")
            return
        scale = SIZES[size]
        self.random = random.Random(42)
        chosen = OFFICES[: max(1, min(offices, len(OFFICES)))]
        for name, tz, address in self._progress(chosen, desc="offices", unit="office"):
            if Office.objects.filter(name=name).exists():
                continue
            email = f"{name.lower()}@demo.example.com"
            self._office(Office.objects.create(name=name, timezone=tz, address=address, email=email), scale)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded. Log in as manager.london@demo.example.com (or any seeded email) with {PASSWORD}"
            )
        )

    def _progress(self, items, **bar):
        """Progress bars on a terminal; in logs (output not a terminal) one plain line, no escape codes."""
        if sys.stderr.isatty():
            return tqdm(items, **bar)
        self.stdout.write(f"Seeding {bar['desc']} ({len(items)})")
        return items

    def _person(self, office, role, label, *, manager=None):
        """The office's manager first (an empty database has nobody above them), then its staff as
        the manager adds them: through `user_create`, with what joining an office sets off."""
        first, last = self.random.choice(FIRST), self.random.choice(LAST)
        person = {
            "email": f"{label}.{office.name.lower()}@demo.example.com",
            "first_name": first,
            "last_name": last,
            "phone": f"+1 555 {self.random.randint(1000000, 9999999)}",
        }
        if manager is None:
            return User.objects.create_user(password=PASSWORD, role=role, office=office, **person)
        return user_create(actor=manager, password=PASSWORD, role=role, **person)

    def _office(self, office, scale):
        manager = self._person(office, Role.MANAGER, "manager")
        receptionist = self._person(office, Role.RECEPTIONIST, "reception", manager=manager)
        consultants = [
            self._person(office, Role.CONSULTANT, f"consultant{n}", manager=manager) for n in range(2 * scale)
        ]
        pipeline = list(LeadStatus)  # new, contacted, qualified, applied, converted, lost
        now = timezone.now()
        for n in self._progress(range(12 * scale), desc=f"{office.name} leads", leave=False):
            first, last = self.random.choice(FIRST), self.random.choice(LAST)
            lead = lead_create(
                actor=receptionist,
                first_name=first,
                last_name=last,
                email=f"{first}.{last}.{n}.{office.name}@demo.example.com".lower(),
                phone=f"+1 555 {self.random.randint(1000000, 9999999)}",
                source=self.random.choice(LeadSource.values),
                confirm_duplicate=True,
            )
            consultant = consultants[n % len(consultants)]
            target = pipeline[n % len(pipeline)]
            if target == LeadStatus.NEW and n % 2:
                continue
            lead_assign(actor=manager, lead=lead, consultant=consultant)
            for step in pipeline[1 : pipeline.index(target) if target in pipeline[:4] else 4]:
                lead = lead_change_status(actor=consultant, lead=lead, status=step)
            if target == LeadStatus.APPLIED:
                lead = lead_change_status(actor=consultant, lead=lead, status=LeadStatus.APPLIED)
            elif target == LeadStatus.LOST:
                lead = lead_change_status(
                    actor=consultant, lead=lead, status=LeadStatus.LOST, lost_reason=self.random.choice(LOST_REASONS)
                )
            elif target == LeadStatus.CONVERTED:
                lead = lead_convert(actor=consultant, lead=lead)
                student = lead.student
                student.set_password(PASSWORD)
                student.save(update_fields=["password"])
                lead.refresh_from_db()
                conversation = conversation_ensure_direct(user_a=student, user_b=consultant, office=office, lead=lead)
                for text, sender in (
                    ("Hi! I have a question about my application.", student),
                    ("Of course, how can I help?", consultant),
                    ("Which documents do I still need?", student),
                    ("Your transcript and a passport copy. Upload them in the app.", consultant),
                ):
                    message_send(sender=sender, conversation=conversation, content=text)
                # One slot per lead (its day and hour from n): at --size medium and up, consultants
                # come round again and two of a consultant's students would meet in one slot.
                start = (now + timedelta(days=1 + n // 6)).replace(hour=10 + n % 6, minute=0, second=0, microsecond=0)
                appointment_book(
                    actor=receptionist,
                    consultant=consultant,
                    student=student,
                    title="Application review",
                    start=start,
                    end=start + timedelta(minutes=45),
                )
                transcript = SimpleUploadedFile("transcript.pdf", transcript_pdf(student.full_name))
                document_upload(actor=student, file=transcript, kind=DocumentKind.TRANSCRIPT, student=student)
        team = conversation_ensure_direct(user_a=manager, user_b=receptionist, office=office)
        message_send(sender=manager, conversation=team, content=f"Welcome to the {office.name} office!")
