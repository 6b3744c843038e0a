# The Celery application loads with Django, so `@shared_task` functions bind to it and
# `task.delay()` from a web process publishes to the configured broker.
from crm_project.celery import app as celery_app

__all__ = ("celery_app",)
