from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Personal data"

    def ready(self) -> None:
        # Every app's personal_data.py registers its part of an export and an erasure (core.privacy).
        autodiscover_modules("personal_data")
