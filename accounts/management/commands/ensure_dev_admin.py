"""Create (once) the development super admin and print how to log in."""

import os

from django.core.management.base import BaseCommand

from accounts.models import Role, User
from accounts.selectors import user_with_email


class Command(BaseCommand):
    help = "Create the development super admin if it does not exist, and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=os.environ.get("DEV_ADMIN_EMAIL", "admin@example.com"))
        parser.add_argument("--password", default=os.environ.get("DEV_ADMIN_PASSWORD", "admin-Pass-2024"))

    def handle(self, *args, email, password, **options):
        user = user_with_email(email).first()
        if user is None:
            User.objects.create_user(email, password, role=Role.SUPER_ADMIN, first_name="Dev", last_name="Admin")
            self.stdout.write(self.style.SUCCESS(f"Created super admin {email} / {password}"))
        else:
            self.stdout.write(f"Super admin login: {email} (password unchanged; default {password})")
