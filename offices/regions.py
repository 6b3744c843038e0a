"""The country an IANA time zone belongs to, from the tz database's own table (zone.tab): a new office's
default country, so its phone numbers and date formats are right without asking."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

SYSTEM_ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")


@cache
def _zone_countries() -> dict[str, str]:
    try:  # the tzdata package (installed with the project's dependencies), else the system's tz database
        text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        text = SYSTEM_ZONE_TAB.read_text() if SYSTEM_ZONE_TAB.exists() else ""
    countries = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, zone, *_ = line.split("\t")
            countries[zone] = code
    return countries


def country_for_timezone(zone: str) -> str:
    """ISO 3166 alpha-2 of the country `zone` is in ("Europe/London" -> "GB"); "" when it names none (UTC)."""
    return _zone_countries().get(zone, "")
