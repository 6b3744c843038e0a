"""The console's page where staff set their own notification preferences (the API's, as a form)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.errors import ValidationFailed
from notifications import services
from notifications.preferences import CATEGORIES, CHANNELS


def _changes(post: dict[str, str]) -> dict[str, object]:
    """The form's fields as the service's changes: unchecked boxes are off."""
    changes: dict[str, object] = {
        category: {channel: f"{category}.{channel}" in post for channel in CHANNELS} for category in CATEGORIES
    }
    start, end = post.get("quiet_start", "").strip(), post.get("quiet_end", "").strip()
    changes["quiet_hours"] = {"start": start, "end": end} if start or end else None
    changes["private_previews"] = "private_previews" in post
    changes["timezone"] = post.get("timezone", "").strip()
    return changes


def preferences(request: HttpRequest) -> HttpResponse:
    """Staff only (the console's admin_view): each edits their own, through the API's service."""
    errors: dict[str, object] = {}
    if request.method == "POST":
        try:
            services.preferences_update(user=request.user, changes=_changes(request.POST))  # type: ignore[arg-type]
        except ValidationFailed as exc:
            errors = exc.details or {}
        else:
            messages.success(request, "Your notification preferences are saved.")
            return redirect("admin-notification-preferences")
    current = services.preferences_get(user=request.user).as_json()  # type: ignore[arg-type]
    rows = [{"category": c, "push": current[c]["push"], "email": current[c]["email"]} for c in CATEGORIES]
    context = {
        **admin.site.each_context(request),
        "title": "Notification preferences",
        "rows": rows,
        "current": current,
        "errors": errors,
    }
    return render(request, "admin/notifications/preferences.html", context, status=400 if errors else 200)
