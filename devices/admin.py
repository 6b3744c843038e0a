from django.contrib import admin

# django-push-notifications registers admin pages for its own device tables. The product keeps its
# devices in `devices.Device` (one id space, session-bound, see docs/notifications.md) and only sends
# through the library, so those tables stay empty and their pages would only confuse.
from push_notifications.models import APNSDevice, GCMDevice, WebPushDevice, WNSDevice

for _model in (APNSDevice, GCMDevice, WebPushDevice, WNSDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
