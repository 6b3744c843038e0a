from django.apps import AppConfig


class StudyConfig(AppConfig):
    """The words studying abroad is described in, shared by a lead's wishes, a student's profile and the
    catalogue: levels, intakes, tests and their scores, countries and currencies. No models."""

    name = "study"
    verbose_name = "Study vocabulary"
