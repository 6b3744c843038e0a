"""Background work of the privacy app: thin jobs around its services (tested directly). Scheduled in
crm_project/celery.py: `apply_retention` daily, `build_pending_exports` every minute (exports the
broker did not take)."""

from core.jobs import job
from privacy import services


@job()
def build_personal_export(export_id: int) -> None:
    services.personal_export_build(export_id=export_id)


@job()
def build_pending_exports() -> int:
    return services.personal_exports_build_pending()


@job()
def apply_retention() -> dict[str, int]:
    return services.retention_apply()
