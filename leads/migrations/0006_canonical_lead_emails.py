"""Lead emails in the canonical form that duplicate checks and the student link now compare exactly
(accounts/emails.py). Leads have no unique email, so every row simply takes its canonical form."""

import unicodedata

from django.db import migrations


def canonical_email(value: str) -> str:  # accounts.emails.canonical_email as of this migration
    folded = unicodedata.normalize("NFKC", value.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def canonical_lead_emails(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    # Only rows that may differ: anything beyond lower-case ASCII without surrounding spaces.
    candidates = Lead.objects.filter(email__regex=r"[^a-z0-9.@_+\-]").values_list("pk", "email")
    for pk, email in candidates.iterator():
        if canonical_email(email) != email:
            Lead.objects.filter(pk=pk).update(email=canonical_email(email))


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_lead_phones_in_e164")]

    operations = [migrations.RunPython(canonical_lead_emails, migrations.RunPython.noop, elidable=True)]
