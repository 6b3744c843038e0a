from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    """Tasks (`tasks/` in the API): follow-ups on a lead, a student or an application. The app is not named
    `tasks` because every app's `tasks.py` is its Celery jobs."""

    name = "followups"
    verbose_name = "Tasks"
