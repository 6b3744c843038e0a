"""The background-job engine: one Celery application, Redis as broker.

`celery -A crm_project worker --beat` runs a worker with the scheduler (development, `make run`);
in production run workers and exactly one `celery -A crm_project beat` (docs/operations.md).

Configuration comes from Django's settings (the `CELERY_*` names, `crm_project/settings/base.py`):
every key of the broker starts with the installation's REDIS_NAMESPACE, so installations sharing
one Redis never take each other's jobs. What every task gets by default (acks late, rejected back to
the queue when its worker dies, time limits) is set there too; `core.jobs.job` adds retries.

Scheduled jobs are one table, `BEAT_SCHEDULE` below: an area adds a row naming its task (docs/jobs.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")

app = Celery("crm_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every scheduled job of the product. A row: a name, the task's dotted name, how often (seconds, or
# crontab(...)), and `expires` so a beat that ran while no worker did cannot pile up copies. The task
# must be idempotent (`core.jobs`): beat can send a row twice across a restart.
BEAT_SCHEDULE = {
    "appointment-reminders": {
        "task": "appointments.tasks.send_reminders",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "task-reminders": {
        "task": "followups.tasks.send_task_reminders",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "proposals-expiry": {
        "task": "proposals.tasks.expire_proposals",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "missed-message-emails": {
        "task": "messaging.tasks.send_missed_message_emails",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "message-pushes-sweep": {
        "task": "messaging.tasks.push_overdue_conversations",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "delivery-ledger-prune": {
        "task": "notifications.tasks.prune_delivery_ledger",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "personal-exports-sweep": {
        "task": "privacy.tasks.build_pending_exports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "retention": {
        "task": "privacy.tasks.apply_retention",
        "schedule": crontab(hour=3, minute=30),  # UTC, after the backup
        "options": {"expires": 3600},
    },
    "nightly-backup": {
        "task": "core.tasks.nightly_backup",
        "schedule": crontab(hour=2, minute=30),  # UTC
        "options": {"expires": 3600},
    },
}
app.conf.beat_schedule = BEAT_SCHEDULE


class Scheduler(PersistentScheduler):
    """Celery's file-backed scheduler, creating the file's folder first (var/ may not exist yet)."""

    def setup_schedule(self) -> None:
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()
