"""Background jobs of proposals."""

from core.jobs import job
from proposals.services import proposals_expire


@job()
def expire_proposals() -> int:
    """Beat, every minute: sent proposals past their expiry are marked expired (idempotent)."""
    return proposals_expire()
