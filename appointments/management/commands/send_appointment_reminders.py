"""Cron job: remind people of appointments starting within APPOINTMENT_REMINDER_MINUTES. Never twice."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from appointments.services import reminders_send


class Command(BaseCommand):
    help = (
        f"Create reminder notifications for appointments starting in the next "
        f"{settings.APPOINTMENT_REMINDER_MINUTES} minutes (APPOINTMENT_REMINDER_MINUTES). Run it from cron "
        "every few minutes; overlapping runs never remind twice."
    )

    def handle(self, *args, **options):
        try:
            sent = reminders_send()
        except Exception as exc:  # cron needs a non-zero exit and a reason
            raise CommandError(f"Reminders failed: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Reminded {sent} appointment(s)."))
