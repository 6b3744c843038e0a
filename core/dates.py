"""Dates and times from query strings: the days the product counts, and an ISO 8601 moment read so
that whatever Python parses, PostgreSQL can compare.

Python accepts UTC offsets up to ±23:59 and years 1 to 9999; PostgreSQL refuses offsets beyond
±15:59, and arithmetic a day past either end of Python's calendar overflows. Each was a 500 on some
page (reports, the console calendar), so every date or moment from a query string goes through here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from django.utils.dateparse import parse_datetime

# Wide enough for any history and any booking ahead, narrow enough that a range's arithmetic (a
# month back, the day after) never leaves the calendar.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)
RANGE_TEXT = f"between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"


def day_in_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def moment_from_query(value: str | None, *, default_tz: tzinfo) -> datetime | None:
    """An ISO 8601 date-time (`default_tz` when it names no offset), in UTC; None when it is not one,
    or names a moment outside the days above."""
    try:
        moment = parse_datetime(value or "")
    except ValueError:  # well formed but impossible: month 13, hour 25, offset +99:00
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 west of Greenwich, year 9999 east of it
        return None
    return moment if day_in_range(moment.date()) else None
