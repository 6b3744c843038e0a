from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from offices.hours import OfficeHours
from offices.models import ClosedDay, Office, OpeningHours, Weekday, validate_country, validate_timezone


class OpeningHoursSerializer(serializers.ModelSerializer):
    weekday = serializers.ChoiceField(choices=Weekday.choices, help_text="ISO 8601: 1 is Monday, 7 is Sunday")

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens_at", "closes_at"]


class ClosedDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = ClosedDay
        fields = ["date", "reason"]
        extra_kwargs = {"reason": {"required": False}}


class OfficeSerializer(serializers.ModelSerializer):
    opening_hours = serializers.SerializerMethodField(
        help_text="One entry per open weekday, in the office's time zone; a weekday not listed is closed."
    )
    closed_days = ClosedDaySerializer(many=True, help_text="Dates the office is closed whatever the weekday.")
    locale = serializers.CharField(read_only=True, help_text="BCP 47 locale of the office's date formats")

    class Meta:
        model = Office
        fields = [
            "id",
            "name",
            "address",
            "phone",
            "email",
            "timezone",
            "country",
            "locale",
            "opening_hours",
            "closed_days",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpeningHoursSerializer(many=True))
    def get_opening_hours(self, office: Office) -> list[dict]:
        """The week that applies (an office whose hours nobody set opens Monday to Friday, 09:00-17:00)."""
        week = OfficeHours.of(office).week
        return [
            {"weekday": day, "opens_at": opens.isoformat(), "closes_at": closes.isoformat()}
            for day, (opens, closes) in sorted(week.items())
        ]


class OfficeWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_timezone])
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, validators=[validate_country], help_text="ISO 3166 alpha-2"
    )
    opening_hours = serializers.ListField(
        child=OpeningHoursSerializer(),
        required=False,
        min_length=1,
        max_length=7,
        help_text="The whole week (open weekdays only): replaces the office's opening hours.",
    )
    closed_days = serializers.ListField(
        child=ClosedDaySerializer(),
        required=False,
        max_length=366,
        help_text="Every closed date: replaces the office's list.",
    )
    is_active = serializers.BooleanField(required=False)

    def validate_opening_hours(self, rows):
        if any({"weekday", "opens_at", "closes_at"} - set(row) for row in rows):  # (a PATCH makes them optional)
            raise serializers.ValidationError("Each weekday needs weekday, opens_at and closes_at.")
        days = [row["weekday"] for row in rows]
        if len(days) != len(set(days)):
            raise serializers.ValidationError("Each weekday at most once.")
        for row in rows:
            if row["opens_at"] >= row["closes_at"]:
                raise serializers.ValidationError("An office closes after it opens, on the same day.")
        return rows

    def validate_closed_days(self, rows):
        if any("date" not in row for row in rows):
            raise serializers.ValidationError("Each closed day needs its date.")
        days = [row["date"] for row in rows]
        if len(days) != len(set(days)):
            raise serializers.ValidationError("Each date at most once.")
        return rows
