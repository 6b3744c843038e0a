from django.db.models import QuerySet

from accounts.models import User
from devices.models import Device


def device_list_for(user: User) -> QuerySet[Device]:
    """A user's devices are theirs alone: nobody else lists, reads or deletes them (404)."""
    return Device.objects.filter(user=user)
