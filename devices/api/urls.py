from django.urls import re_path

from devices.api import views

urlpatterns = [
    re_path(r"^devices/?$", views.DevicesView.as_view(), name="devices"),
    re_path(r"^devices/webpush-key/?$", views.WebPushKeyView.as_view(), name="devices-webpush-key"),
    re_path(r"^devices/(?P<device_id>[^/]+)/?$", views.DeviceView.as_view(), name="device"),
]
