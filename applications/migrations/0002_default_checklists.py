"""Sensible default checklists, in every installation (editable in the console afterwards): the documents
universities ask for everywhere, and what the main destinations add."""

from django.db import migrations

# key, label, document kind, count, required
DEFAULT = [
    ("passport", "Passport", "passport", 1, True),
    ("transcripts", "Academic transcripts", "transcript", 1, True),
    ("english_test", "English test result", "test_score", 1, True),
    ("statement_of_purpose", "Statement of purpose", "statement_of_purpose", 1, True),
    ("references", "Two references", "recommendation", 2, True),
    ("cv", "CV", "cv", 1, True),
    ("financial_evidence", "Financial evidence", "financial", 1, True),
]
BY_COUNTRY = {
    "GB": ("United Kingdom", [("tb_test", "Tuberculosis test (some nationalities)", "medical", 1, False)]),
    "US": ("United States", [("financial_evidence", "Bank statement and affidavit of support", "financial", 2, True)]),
    "AU": ("Australia", [("oshc", "Overseas Student Health Cover", "health_insurance", 1, True)]),
    "CA": ("Canada", [("medical_exam", "Medical exam (some nationalities)", "medical", 1, False)]),
    "DE": ("Germany", [("financial_evidence", "Bank statement and blocked account", "financial", 2, True)]),
}


def create(apps, schema_editor):
    Template = apps.get_model("applications", "ChecklistTemplate")
    Requirement = apps.get_model("applications", "ChecklistRequirement")

    def template(country, name, extra):
        replaced = {row[0] for row in extra}  # a destination's own version of a default item takes its place
        items = [row if row[0] not in replaced else next(e for e in extra if e[0] == row[0]) for row in DEFAULT]
        extra = [row for row in extra if row[0] not in {d[0] for d in DEFAULT}]
        made = Template.objects.create(country=country, level="", name=name)
        for position, (key, label, kind, count, required) in enumerate(items + extra):
            Requirement.objects.create(
                template=made, key=key, label=label, document_kind=kind, count=count, required=required, position=position
            )

    template("", "Default", [])
    for country, (name, extra) in BY_COUNTRY.items():
        template(country, name, extra)


def remove(apps, schema_editor):
    apps.get_model("applications", "ChecklistTemplate").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("applications", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
