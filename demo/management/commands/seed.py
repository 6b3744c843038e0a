"""Realistic demo data through the same services the API uses. Idempotent per office."""

import io
import random
import sys
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from accounts.models import Role, User
from accounts.selectors import user_with_email
from accounts.services import user_create
from appointments.services import appointment_book
from demo.applications import seed_applications, seed_catalogue
from demo.around import seed_around
from documents.models import DocumentKind
from documents.services import document_upload
from leads.models import LeadSource, LeadStatus
from leads.services import lead_assign, lead_change_status, lead_convert, lead_create
from messaging.services import conversation_ensure_direct, message_send
from offices.hours import OfficeHours
from offices.models import Office

PASSWORD = "demo-Pass-2024"
DEMO_DOMAIN = "demo.example.com"
SUPER_ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
APPOINTMENT_LENGTH = timedelta(minutes=45)
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


class Diary:
    """Where the demo's appointments go: the office's open days (its opening hours and closed dates, in its
    own time zone: `offices.hours`) from tomorrow on, on the hour, never two of one consultant at once (the
    database refuses that: the medium size used to book one consultant twice at the same hour)."""

    WEEKS = 2  # the preferred slots spread over this many weeks of open days

    def __init__(self, *, office, now: datetime):
        hours = OfficeHours.of(office)
        self.slots: list[datetime] = []
        day = now.astimezone(office.tzinfo).date() + timedelta(days=1)
        while len({slot.date() for slot in self.slots}) < 5 * self.WEEKS:
            opening = hours.on(day)
            if opening is not None:
                start, last = opening[0], opening[1] - APPOINTMENT_LENGTH
                start += timedelta(minutes=-start.minute % 60)  # on the hour
                while start <= last:
                    self.slots.append(start)
                    start += timedelta(hours=1)
            day += timedelta(days=1)
        self.taken: set[tuple[int, datetime]] = set()

    def book(self, *, consultant_id: int, preferred: int) -> datetime:
        """The first free hour of this consultant from the `preferred`-th open hour on (wrapping round)."""
        index = preferred % len(self.slots)
        while (consultant_id, self.slots[index % len(self.slots)]) in self.taken:
            index += 1
        start = self.slots[index % len(self.slots)]
        self.taken.add((consultant_id, start))
        return start


class Command(BaseCommand):
    help = (
        "Create demo offices, staff of every role, students, leads across the pipeline, appointments, documents, "
        "conversations with messages, the sample university catalogue, student profiles and applications in "
        "every status. Idempotent: an office that exists is left alone. Every account's "
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
        self._super_admin()
        importer = User.objects.filter(role=Role.SUPER_ADMIN, is_active=True).order_by("id").first()
        self._importer = importer
        chosen = OFFICES[: max(1, min(offices, len(OFFICES)))]
        for name, tz, address in self._progress(chosen, desc="offices", unit="office"):
            if Office.objects.filter(name=name).exists():
                continue
            email = f"{name.lower()}@demo.example.com"
            self._office(Office.objects.create(name=name, timezone=tz, address=address, email=email), scale)
        self.stdout.write(self.style.SUCCESS("Seeded. Demo logins, one per role: manage.py demo_logins"))

    def _super_admin(self):
        """The demo's super admin, who sees every office (the dev admin of `make admin` is another)."""
        if not user_with_email(SUPER_ADMIN_EMAIL).exists():
            User.objects.create_superuser(SUPER_ADMIN_EMAIL, PASSWORD, first_name="Sam", last_name="Super")

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
        diary = Diary(office=office, now=timezone.now())
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
                start = diary.book(consultant_id=consultant.pk, preferred=n)
                appointment_book(
                    actor=receptionist,
                    consultant=consultant,
                    student=student,
                    title="Application review",
                    start=start,
                    end=start + APPOINTMENT_LENGTH,
                )
                transcript = SimpleUploadedFile("transcript.pdf", transcript_pdf(student.full_name))
                document_upload(actor=student, file=transcript, kind=DocumentKind.TRANSCRIPT, student=student)
        team = conversation_ensure_direct(user_a=manager, user_b=receptionist, office=office)
        message_send(sender=manager, conversation=team, content=f"Welcome to the {office.name} office!")
        seed_catalogue(self._importer or manager)  # the sample catalogue, once (a manager may import it)
        seed_applications(
            office=office, manager=manager, consultants=consultants, pdf=transcript_pdf("Document"), scale=scale
        )
        seed_around(office=office, manager=manager, consultants=consultants)
