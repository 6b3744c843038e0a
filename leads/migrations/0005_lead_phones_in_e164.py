"""Leads' phone numbers in E.164, read with their office's country (issue 25: "+1 555 2161193" and
"+1 (555) 216-1193" were two numbers to the duplicate check and the search). A number that does not
read as one anywhere is kept as it was typed (nothing is lost); the reverse migration keeps E.164."""

from django.db import migrations

from core.phones import phone_normalize_or_keep


def phones_to_e164(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    changed = []
    for lead in Lead.objects.exclude(phone="").select_related("office").only("id", "phone", "office__country"):
        phone = phone_normalize_or_keep(lead.phone, region=lead.office.country if lead.office_id else "")
        if phone != lead.phone:
            lead.phone = phone
            changed.append(lead)
    Lead.objects.bulk_update(changed, ["phone"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0004_lead_preferences_and_activity_kinds"),
        ("offices", "0002_opening_hours_per_weekday_closed_days_and_country"),  # the offices' countries
    ]

    operations = [migrations.RunPython(phones_to_e164, migrations.RunPython.noop)]
