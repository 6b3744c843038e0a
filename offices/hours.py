"""When an office is open: its hours per weekday and its closed dates, in its own time zone. Pure rules
(no database, no clock) over what `OfficeHours.of(office)` reads once; bookings, availability, free
slots and the console's calendar all ask these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from offices.models import Office, Weekday

# The week of an office whose hours nobody has set (no rows): Monday to Friday, 09:00 to 17:00. An office
# is open at least one day a week (the services refuse an empty week: deactivate the office instead).
DEFAULT_WEEK: dict[int, tuple[time, time]] = {day: (time(9), time(17)) for day in range(1, 6)}


@dataclass(frozen=True)
class OfficeHours:
    zone: ZoneInfo
    week: dict[int, tuple[time, time]]  # ISO weekday -> (opens, closes); a missing weekday is closed
    closed: dict[date, str] = field(default_factory=dict)  # date -> reason

    @classmethod
    def of(cls, office: Office) -> OfficeHours:
        """From the office's rows (prefetch `opening_hours` and `closed_days` to read many offices at once)."""
        week = {row.weekday: (row.opens_at, row.closes_at) for row in office.opening_hours.all()}
        return cls(
            zone=office.tzinfo,
            week=week or dict(DEFAULT_WEEK),
            closed={row.date: row.reason for row in office.closed_days.all()},
        )

    def closed_reason(self, day: date) -> str | None:
        """Why the office is closed on `day` (a closed date's reason, or the weekday), None when open."""
        if day in self.closed:
            return self.closed[day] or "Closed"
        if day.isoweekday() not in self.week:
            return f"Closed on {Weekday(day.isoweekday()).label}s"
        return None

    def on(self, day: date) -> tuple[datetime, datetime] | None:
        """The office's opening and closing on `day`, as aware datetimes in its zone; None when closed."""
        if self.closed_reason(day) is not None:
            return None
        opens, closes = self.week[day.isoweekday()]
        return datetime.combine(day, opens, tzinfo=self.zone), datetime.combine(day, closes, tzinfo=self.zone)

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) lies within one day's opening hours."""
        hours = self.on(start.astimezone(self.zone).date())
        return hours is not None and hours[0] <= start and end <= hours[1]

    def describe(self, day: date) -> str:
        """ "09:00–17:00" or why it is closed, for messages."""
        hours = self.on(day)
        if hours is None:
            return self.closed_reason(day) or "Closed"
        return f"{hours[0]:%H:%M}–{hours[1]:%H:%M}"
