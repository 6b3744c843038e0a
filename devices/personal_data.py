"""A person's push targets in their export and erasure (core.privacy)."""

from __future__ import annotations

from push_notifications.models import APNSDevice, GCMDevice, WebPushDevice, WNSDevice

from accounts.models import User
from core.privacy import Area, AreaExport, Erasure, register_area
from devices.models import Device

# django-push-notifications' own tables: the product registers devices in `Device` and sends through
# the library's senders, so these stay empty; erasure clears them all the same.
LIBRARY_DEVICES = (APNSDevice, GCMDevice, WebPushDevice, WNSDevice)


def export(person: User) -> AreaExport:
    # The kind and dates say which phones and browsers were registered; the tokens are credentials
    # for a push service, not information about the person, and stay out of a file that travels.
    return AreaExport(
        [
            {"kind": d.kind, "created_at": d.created_at, "last_used_at": d.last_used_at}
            for d in Device.objects.filter(user=person).order_by("id")
        ]
    )


def erase(erasure: Erasure) -> None:
    erasure.count("push devices deleted", Device.objects.filter(user=erasure.person).delete()[0])
    for model in LIBRARY_DEVICES:
        model.objects.filter(user=erasure.person).delete()


register_area(
    Area(
        name="devices",
        description="The phones and browsers registered to receive your push notifications (kind and dates).",
        export=export,
        erase=erase,
        covers={
            "devices.Device.user": "the person's push targets: exported without their tokens; deleted on erasure",
            **{
                f"push_notifications.{model.__name__}.user": "the push library's own table (unused): deleted on erasure"
                for model in LIBRARY_DEVICES
            },
        },
    )
)
