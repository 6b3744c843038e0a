import zoneinfo

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import models


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone name.", code="invalid_timezone")


def validate_country(value: str) -> None:
    """ISO 3166 alpha-2, as the phone-number library knows the regions (the default region of phones)."""
    if value and value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"'{value}' is not an ISO 3166 country code.", code="invalid_country")


class Office(models.Model):
    name = models.CharField(max_length=120, unique=True)
    address = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # ISO 3166 alpha-2: the default region of the phone numbers typed in this office, and the region of
    # its date formats (docs/console.md). Blank: phone numbers must be international (+...).
    country = models.CharField(max_length=2, blank=True, validators=[validate_country])
    # Opening hours: `opening_hours` (one row per open weekday) and `closed_days` (dates), below.
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def locale(self) -> str:
        """The BCP 47 locale the console formats this office's dates in: English, in the office's
        region ("en-GB": Fri 14/03; "en-AU": Fri 14/3; "en-US": Fri 3/14)."""
        return f"en-{self.country}" if self.country else "en-GB"


class Weekday(models.IntegerChoices):
    """ISO 8601 weekday numbers, as `date.isoweekday()` gives them."""

    MONDAY = 1, "Monday"
    TUESDAY = 2, "Tuesday"
    WEDNESDAY = 3, "Wednesday"
    THURSDAY = 4, "Thursday"
    FRIDAY = 5, "Friday"
    SATURDAY = 6, "Saturday"
    SUNDAY = 7, "Sunday"


class OpeningHours(models.Model):
    """When an office is open on one weekday, in its own time zone. A weekday without a row is closed."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["office", "weekday"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.UniqueConstraint(fields=["office", "weekday"], name="opening_hours_once_a_weekday"),
            models.CheckConstraint(condition=models.Q(weekday__gte=1, weekday__lte=7), name="opening_hours_weekday"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="opening_hours_close_after_opening"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class ClosedDay(models.Model):
    """A date an office is closed whatever its weekday's hours say (a bank holiday, a move)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="closed_days")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["office", "date"]
        constraints = [models.UniqueConstraint(fields=["office", "date"], name="closed_day_once")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}" + (f" ({self.reason})" if self.reason else "")
