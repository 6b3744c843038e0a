from django.urls import re_path

from students.api import views

urlpatterns = [
    re_path(r"^students/(?P<student_id>\d+)/profile/?$", views.StudentProfileView.as_view(), name="student-profile"),
    re_path(r"^auth/me/profile/?$", views.MyProfileView.as_view(), name="my-profile"),
]
