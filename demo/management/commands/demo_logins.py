"""Print one demo login per role (`make run` shows them right above the address it serves on)."""

from django.core.management.base import BaseCommand

from accounts.models import Role, User
from demo.management.commands.seed import DEMO_DOMAIN, PASSWORD

LABELS = {
    Role.SUPER_ADMIN: "super admin",
    Role.MANAGER: "manager",
    Role.CONSULTANT: "consultant",
    Role.RECEPTIONIST: "receptionist",
    Role.STUDENT: "student",
}


class Command(BaseCommand):
    help = "Print one seeded demo account per role, with the demo password (nothing before `manage.py seed`)."

    def handle(self, *args, **options):
        demo = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", is_active=True).order_by("office_id", "id")
        first: dict[str, str] = {}
        for role, email in demo.values_list("role", "email"):
            first.setdefault(role, email)
        if not first:
            self.stdout.write("No demo accounts yet (manage.py seed makes them).")
            return
        self.stdout.write(f"Demo logins (password {PASSWORD}, as seeded):")
        width = max(len(label) for label in LABELS.values()) + 1
        for role, label in LABELS.items():
            if role in first:
                self.stdout.write(f"  {label + ':':<{width}} {first[role]}")
