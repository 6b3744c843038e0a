from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Staff console"


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the staff console (`console.site.ConsoleSite`) as its site."""

    default = False
    default_site = "console.site.ConsoleSite"
