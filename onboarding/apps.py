from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding"

    def ready(self):
        # Connects the receivers; imported once the app registry is ready (they import the apps' services).
        from onboarding import receivers  # noqa: F401, PLC0415
