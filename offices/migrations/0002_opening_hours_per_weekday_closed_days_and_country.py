"""Opening hours per weekday and closed dates replace the one opens_at / closes_at of every day; offices
get a country (the default region of their phone numbers, the region of their date formats).

Existing offices keep their hours Monday to Friday and are closed at weekends (they were offered as
free on Saturdays and Sundays, issue 25); their country comes from their time zone."""

import django.db.models.deletion
from django.db import migrations, models

import offices.models
from offices.regions import country_for_timezone


def hours_from_opens_and_closes(apps, schema_editor):
    Office = apps.get_model("offices", "Office")
    OpeningHours = apps.get_model("offices", "OpeningHours")
    rows = []
    for office in Office.objects.all():
        office.country = country_for_timezone(office.timezone)
        office.save(update_fields=["country"])
        if office.opens_at < office.closes_at:
            rows += [
                OpeningHours(office=office, weekday=day, opens_at=office.opens_at, closes_at=office.closes_at)
                for day in range(1, 6)
            ]
    OpeningHours.objects.bulk_create(rows)


def opens_and_closes_from_hours(apps, schema_editor):
    Office = apps.get_model("offices", "Office")
    for office in Office.objects.all():
        first = office.opening_hours.order_by("weekday").first()
        if first is not None:
            office.opens_at, office.closes_at = first.opens_at, first.closes_at
            office.save(update_fields=["opens_at", "closes_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("offices", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="office",
            name="country",
            field=models.CharField(blank=True, max_length=2, validators=[offices.models.validate_country]),
        ),
        migrations.CreateModel(
            name="ClosedDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField()),
                ("reason", models.CharField(blank=True, max_length=200)),
                (
                    "office",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="closed_days", to="offices.office"
                    ),
                ),
            ],
            options={
                "ordering": ["office", "date"],
                "constraints": [models.UniqueConstraint(fields=("office", "date"), name="closed_day_once")],
            },
        ),
        migrations.CreateModel(
            name="OpeningHours",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "weekday",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (1, "Monday"),
                            (2, "Tuesday"),
                            (3, "Wednesday"),
                            (4, "Thursday"),
                            (5, "Friday"),
                            (6, "Saturday"),
                            (7, "Sunday"),
                        ]
                    ),
                ),
                ("opens_at", models.TimeField()),
                ("closes_at", models.TimeField()),
                (
                    "office",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="opening_hours", to="offices.office"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "opening hours",
                "ordering": ["office", "weekday"],
                "constraints": [
                    models.UniqueConstraint(fields=("office", "weekday"), name="opening_hours_once_a_weekday"),
                    models.CheckConstraint(
                        condition=models.Q(("weekday__gte", 1), ("weekday__lte", 7)), name="opening_hours_weekday"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("closes_at__gt", models.F("opens_at"))),
                        name="opening_hours_close_after_opening",
                    ),
                ],
            },
        ),
        migrations.RunPython(hours_from_opens_and_closes, opens_and_closes_from_hours),
        migrations.RemoveField(model_name="office", name="closes_at"),
        migrations.RemoveField(model_name="office", name="opens_at"),
    ]
