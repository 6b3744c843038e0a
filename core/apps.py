from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the staff console (`core.console.ConsoleSite`) as its site."""

    default = False
    default_site = "core.console.ConsoleSite"
