"""Nothing personal is forgotten: every foreign key to the user, in our apps and the libraries', is either
covered by an area's export and erasure or kept on purpose with a reason (core.privacy). A new model
holding a user (a profile, an application, a push device) fails here until its app's personal_data.py
claims it. And every retention rule is a setting that docs/data-protection.md explains."""

from pathlib import Path

from django.apps import apps
from django.conf import settings

from core.privacy import areas, retention_rules

ROOT = Path(__file__).resolve().parents[2]
# Fields that name a person without being a key to the user: the model holding one must be covered too.
PERSONAL_FIELDS = {"email", "phone", "first_name", "last_name", "passport_number", "date_of_birth", "nationality"}
# Models with such fields that hold no one's personal data, each with its reason.
NOT_PERSONAL = {
    "offices.Office": "an office's own contact details, not a person's",
    "axes.AccessAttempt": "failed sign-ins by email: deleted on erasure and after EXPIRED_CREDENTIALS_RETENTION_DAYS",
    "axes.AccessFailureLog": "as AccessAttempt",
    "axes.AccessLog": "as AccessAttempt (successful sign-ins are not recorded: AXES_DISABLE_ACCESS_LOG)",
    "account.EmailAddress": "covered through its user key (the profile area)",
}


def label(field) -> str:
    return f"{field.model._meta.label}.{field.name}"


def user_keys() -> set[str]:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return {
        label(field)
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.get_fields()
        if field.concrete and field.is_relation and field.related_model is user_model
    }


def claimed() -> dict[str, list[str]]:
    claims: dict[str, list[str]] = {}
    for area in areas():
        for key in [*area.covers, *area.kept]:
            claims.setdefault(key, []).append(area.name)
    return claims


def test_every_foreign_key_to_the_user_is_claimed_by_exactly_one_area():
    claims = claimed()
    unclaimed = sorted(user_keys() - set(claims))
    assert unclaimed == [], (
        f"{unclaimed}: a model holds a user but no personal_data.py says what its export and erasure do with "
        "it (`covers`), or why it is kept unchanged (`kept`). See docs/data-protection.md, adding an area."
    )
    assert {key: names for key, names in claims.items() if len(names) > 1} == {}


def test_every_claim_names_a_real_foreign_key_to_the_user():
    assert sorted(set(claimed()) - user_keys()) == []


def test_models_with_personal_fields_are_covered():
    covered_models = {key.rsplit(".", 1)[0] for key in claimed()} | {settings.AUTH_USER_MODEL} | {"leads.Lead"}
    personal = {
        model._meta.label
        for model in apps.get_models()
        if PERSONAL_FIELDS & {field.name for field in model._meta.get_fields()}
    }
    assert sorted(personal - covered_models - set(NOT_PERSONAL)) == []


def test_the_areas_an_export_is_made_of():
    assert [area.name for area in areas()] == [
        "applications",
        "appointments",
        "devices",
        "documents",
        "leads",
        "messages",
        "notifications",
        "privacy",
        "proposals",
        "student_profile",
        "tasks",
        "profile",
    ]
    assert all(area.description for area in areas())


def test_every_retention_period_is_a_setting_explained_in_the_data_protection_doc():
    doc = (ROOT / "docs" / "data-protection.md").read_text()
    for rule in retention_rules():
        assert isinstance(getattr(settings, rule.setting), int), rule.setting
        assert f"`{rule.setting}`" in doc, f"docs/data-protection.md does not explain {rule.setting}"
