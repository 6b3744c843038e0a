"""Background work of core: thin Celery wrappers around its services (tested directly).

Beat schedule wanted (wired in crm_project/celery.py): `core.nightly_backup` every night (e.g. 02:30 UTC).
"""

from pathlib import Path

from celery import shared_task
from django.conf import settings

from core.backup import backup_scheduled


@shared_task(name="core.nightly_backup", ignore_result=True)  # type: ignore[untyped-decorator]
def nightly_backup() -> str:
    summary = backup_scheduled(folder=Path(settings.BACKUP_DIR), keep=settings.BACKUP_KEEP)
    return str(summary.output)
