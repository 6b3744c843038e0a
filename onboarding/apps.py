from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding"

    def ready(self):
        from onboarding import receivers  # noqa: F401 - connects the receivers (they import the apps' services)
