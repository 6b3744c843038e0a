"""What reaches whom: the categories of notifications, the defaults per role, quiet hours.

Pure rules, no queries and no clock of their own (the caller passes `now`), as `SeqOrder`.

A notification's **category** is the preference it answers to: `message`, `appointment`, `document`,
`application`, `task`, `announcement`. A kind's category is its name up to the first "_" when that is
a category (`appointment_booked` -> appointment, `application` or `application_updated` ->
application, `task_due` -> task), else the table `KIND_CATEGORY`. So an area that creates notifications
named after its category gets push and email by its users' preferences without touching this file.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from accounts.models import Role

CATEGORIES = ("message", "appointment", "document", "application", "task", "announcement")
CHANNELS = ("push", "email")

# Kinds whose name does not start with their category.
KIND_CATEGORY = {
    "lead_assigned": "task",  # work handed to a consultant
    "conversation_added": "message",
}


def category_of(kind: str) -> str:
    head = kind.split("_", 1)[0]
    if head in CATEGORIES:
        return head
    return KIND_CATEGORY.get(kind, "announcement")


# Defaults per role: students hear about everything by push, and by email about what they must act on
# (an appointment, a document, their application) and about messages they missed. Staff get push for
# their work; email only for missed messages and tasks, since they live in the console all day.
_STUDENT = {
    "message": {"push": True, "email": True},
    "appointment": {"push": True, "email": True},
    "document": {"push": True, "email": True},
    "application": {"push": True, "email": True},
    "task": {"push": False, "email": False},
    "announcement": {"push": True, "email": False},
}
_STAFF = {
    "message": {"push": True, "email": True},
    "appointment": {"push": True, "email": False},
    "document": {"push": True, "email": False},
    "application": {"push": True, "email": False},
    "task": {"push": True, "email": True},
    "announcement": {"push": True, "email": False},
}


def role_defaults(role: str) -> dict[str, dict[str, bool]]:
    chosen = _STUDENT if role == Role.STUDENT else _STAFF
    return {category: dict(channels) for category, channels in chosen.items()}


@dataclass(frozen=True)
class Preferences:
    """A user's effective preferences: their choices over their role's defaults."""

    channels: dict[str, dict[str, bool]]
    quiet_start: time | None
    quiet_end: time | None
    private_previews: bool
    timezone: str

    def allows(self, category: str, channel: str) -> bool:
        return self.channels.get(category, {}).get(channel, False)

    def quiet_at(self, now: datetime) -> bool:
        """Whether `now` falls in the quiet hours, read on the user's clock. A start after the end
        spans midnight (22:00-07:00); equal start and end mean no quiet hours."""
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return False
        local = now.astimezone(zone(self.timezone)).time().replace(tzinfo=None)
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end

    def as_json(self) -> dict[str, Any]:
        return {
            **{category: dict(self.channels[category]) for category in CATEGORIES},
            "quiet_hours": (
                {"start": self.quiet_start.strftime("%H:%M"), "end": self.quiet_end.strftime("%H:%M")}
                if self.quiet_start is not None and self.quiet_end is not None
                else None
            ),
            "private_previews": self.private_previews,
            "timezone": self.timezone,
        }


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def effective(
    *,
    role: str,
    overrides: dict[str, Any] | None,
    quiet_start: time | None,
    quiet_end: time | None,
    private_previews: bool,
    timezone: str,
) -> Preferences:
    channels = role_defaults(role)
    for category, chosen in (overrides or {}).items():
        if category in channels and isinstance(chosen, dict):
            for channel in CHANNELS:
                if isinstance(chosen.get(channel), bool):
                    channels[category][channel] = chosen[channel]
    return Preferences(channels, quiet_start, quiet_end, private_previews, timezone or "UTC")
