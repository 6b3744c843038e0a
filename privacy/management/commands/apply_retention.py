"""`manage.py apply_retention`: every retention rule now (what the daily task runs)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from core.privacy import retention_rules
from privacy.services import retention_apply


class Command(BaseCommand):
    help = (
        "Apply every retention period now: lost leads anonymised, deleted messages' text cleared, read "
        "notifications, expired sign-in credentials, old audit entries and expired exports deleted. "
        "Periods are settings (docs/data-protection.md). Runs daily as the privacy.tasks.apply_retention job."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--list", dest="list_rules", action="store_true", help="list the rules and their periods, change nothing"
        )

    def handle(self, *args: Any, list_rules: bool, **options: Any) -> None:
        if list_rules:
            for rule in retention_rules():
                self.stdout.write(f"{rule.name}: {rule.setting}={getattr(settings, rule.setting)}. {rule.description}")
            return
        for name, count in retention_apply().items():
            self.stdout.write(f"{name}: {count}")
        self.stdout.write(self.style.SUCCESS("Retention applied."))
