"""Background work of the privacy app: thin Celery wrappers around its services (tested directly).

Beat schedule wanted (wired in crm_project/celery.py): `privacy.apply_retention` daily,
`privacy.build_pending_exports` every minute (exports a broker outage left pending).
"""

from celery import shared_task

from privacy import services


@shared_task(name="privacy.build_personal_export", ignore_result=True)
def build_personal_export(export_id: int) -> None:
    services.personal_export_build(export_id=export_id)


@shared_task(name="privacy.build_pending_exports", ignore_result=True)
def build_pending_exports() -> int:
    return services.personal_exports_build_pending()


@shared_task(name="privacy.apply_retention", ignore_result=True)
def apply_retention() -> dict[str, int]:
    return services.retention_apply()
