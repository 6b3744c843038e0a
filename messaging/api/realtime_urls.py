from django.urls import re_path

from messaging.api import realtime_views

urlpatterns = [
    re_path(r"^users/presence/?$", realtime_views.PresenceView.as_view(), name="users-presence"),
]
