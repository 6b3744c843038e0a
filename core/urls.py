from django.urls import path

from core import metrics, views

urlpatterns = [
    path("health", views.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
]
