"""Phone numbers as one canonical string: E.164 (`+447700900123`), parsed with a default region (the
office's country) for numbers typed the national way (`07700 900123`). Stored this way, the same number
typed two ways is the same number, for duplicate checks and searches; people see it in the national
format of the office's country (`07700 900123`), or the international one for a number from abroad.
Parsing and formatting are Google's libphonenumber rules (the `phonenumbers` package)."""

from __future__ import annotations

import re

import phonenumbers

# What a search for a phone number needs at least: fewer digits match too much to mean a number.
SEARCH_MIN_DIGITS = 5


class InvalidPhone(ValueError):
    """Not a phone number of any country (or a national one with no region to read it in)."""


def phone_normalize(raw: str, *, region: str = "") -> str:
    """`raw` as E.164 ("" stays ""). `region`: ISO 3166 alpha-2 for numbers without a country code.
    A number that cannot be one anywhere (too short, too long, letters) raises InvalidPhone."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("Not a possible phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_normalize_or_keep(raw: str, *, region: str = "") -> str:
    """E.164 when `raw` reads as a number, else `raw` as it is (data typed before numbers were checked,
    and numbers from doors that never checked them, such as a signup's)."""
    try:
        return phone_normalize(raw, region=region)
    except InvalidPhone:
        return (raw or "").strip()


def phone_display(stored: str, *, region: str = "") -> str:
    """How people read a stored number: national in `region` ("07700 900123"), international elsewhere
    ("+1 555-216-1193"); anything that is not E.164 as it was typed."""
    if not stored or not stored.startswith("+"):
        return stored or ""
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    same_country = bool(region) and number.country_code == phonenumbers.country_code_for_region(region.upper())
    style = phonenumbers.PhoneNumberFormat.NATIONAL if same_country else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def phone_search_terms(query: str, *, region: str = "") -> tuple[str, str] | None:
    """What a search that looks like a phone number matches: (the number in E.164 if it reads as one,
    else "", its digits for a partial match); None when the query is not a number."""
    if re.search(r"[^\d\s+().\-/]", query or ""):
        return None
    digits = re.sub(r"\D", "", query)
    if len(digits) < SEARCH_MIN_DIGITS:
        return None
    try:
        whole = phone_normalize(query, region=region)
    except InvalidPhone:
        whole = ""
    # A national number keeps its trunk zero where E.164 drops it: search its digits without it too.
    return whole, digits.lstrip("0") if not query.strip().startswith("+") else digits
