"""Background work of core: the nightly backup (scheduled in crm_project/celery.py)."""

from pathlib import Path

from django.conf import settings

from core.backup import backup_scheduled
from core.jobs import job


@job(max_retries=2)
def nightly_backup() -> str:
    summary = backup_scheduled(folder=Path(settings.BACKUP_DIR), keep=settings.BACKUP_KEEP)
    return str(summary.output)
