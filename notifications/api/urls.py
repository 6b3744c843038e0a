from django.urls import re_path

from notifications.api import views

urlpatterns = [
    re_path(r"^notifications/?$", views.NotificationsView.as_view(), name="notifications"),
    re_path(r"^notifications/read-all/?$", views.NotificationsReadAllView.as_view(), name="notifications-read-all"),
    re_path(
        r"^notifications/(?P<notification_id>[^/]+)/read/?$",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
    re_path(
        r"^notification-preferences/?$", views.NotificationPreferencesView.as_view(), name="notification-preferences"
    ),
    re_path(r"^announcements/?$", views.AnnouncementsView.as_view(), name="announcements"),
]
