"""Sensible default checklists, in every installation (editable in the console afterwards):
applications/checklist_defaults.py."""

from django.db import migrations

from applications.checklist_defaults import create_default_checklists


def create(apps, schema_editor):
    create_default_checklists(apps.get_model("applications", "ChecklistTemplate"),
                              apps.get_model("applications", "ChecklistRequirement"))


def remove(apps, schema_editor):
    apps.get_model("applications", "ChecklistTemplate").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("applications", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
