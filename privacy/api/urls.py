from django.urls import re_path

from privacy.api import views

urlpatterns = [
    re_path(r"^users/(?P<user_id>\d+)/export/?$", views.PersonalExportView.as_view(), name="privacy-export"),
    re_path(
        r"^users/(?P<user_id>\d+)/exports/(?P<export_id>\d+)/?$",
        views.ExportStatusView.as_view(),
        name="privacy-export-status",
    ),
    re_path(
        r"^users/(?P<user_id>\d+)/exports/(?P<export_id>\d+)/download/?$",
        views.ExportDownloadView.as_view(),
        name="privacy-export-download",
    ),
    re_path(r"^users/(?P<user_id>\d+)/erase/?$", views.PersonEraseView.as_view(), name="privacy-erase"),
    re_path(r"^users/(?P<user_id>\d+)/legal-hold/?$", views.LegalHoldView.as_view(), name="privacy-legal-hold"),
]
