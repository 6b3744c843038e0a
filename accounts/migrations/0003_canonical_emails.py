"""Stored emails in the canonical form every lookup now compares exactly (accounts/emails.py).

Until now addresses were stored trimmed and lower-cased and looked up with the database's UPPER(); an
address whose canonical form differs (full-width letters, `ſ`, the Kelvin sign, `ß`) is rewritten so
its owner still signs in with whatever spelling they used. Two accounts that turn out to be one
address in two spellings cannot both keep it: the migration stops and names them, for a person to
decide which one keeps the address (change the other's email in the console, then migrate again).
"""

import unicodedata

from django.db import migrations


def canonical_email(value: str) -> str:  # accounts.emails.canonical_email as of this migration
    folded = unicodedata.normalize("NFKC", value.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


class SameAddressTwice(Exception):
    pass


def canonical_stored_emails(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    # Only rows that may differ: anything beyond lower-case ASCII without surrounding spaces.
    candidates = User.objects.filter(email__regex=r"[^a-z0-9.@_+\-]").order_by("pk").values_list("pk", "email")
    for pk, email in candidates.iterator():
        canonical = canonical_email(email)
        if canonical == email:
            continue
        other = User.objects.filter(email=canonical).exclude(pk=pk).values_list("pk", flat=True).first()
        if other is not None:
            raise SameAddressTwice(
                f"Users {other} and {pk} have the same email in two spellings ({canonical!r}); "
                "change one of them, then migrate again."
            )
        User.objects.filter(pk=pk).update(email=canonical)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_legal_hold_and_erased_at")]

    operations = [migrations.RunPython(canonical_stored_emails, migrations.RunPython.noop, elidable=True)]
