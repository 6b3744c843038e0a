"""`{{ moment|when }}`: a time as the console writes it everywhere (static/console/live.js's `timeText`
writes live rows the same way): "14:05" today, "3 Mar, 14:05" this year, "3 Mar 2030, 14:05" before,
in the page's time zone (the office's: console.middleware)."""

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when_text(moment: datetime, now: datetime | None = None) -> str:
    local = timezone.localtime(moment)
    today = timezone.localtime(now or timezone.now())
    clock = f"{local:%H:%M}"
    if local.date() == today.date():
        return clock
    day = f"{local.day} {MONTHS[local.month - 1]}"
    return f"{day}, {clock}" if local.year == today.year else f"{day} {local.year}, {clock}"


@register.filter
def when(moment: datetime | None) -> str:
    return when_text(moment) if moment else ""
