"""`.env.example` lists every environment variable the settings read, and nothing stale."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"""env(?:_bool|_int|_list)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")
ALSO_READ = {
    "DJANGO_SETTINGS_MODULE",
    "CRM_DATA_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "DEV_ADMIN_EMAIL",
    "DEV_ADMIN_PASSWORD",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",  # crm_project.embedded.database_url_from_parts
    "HOST",  # crm_project.serve
    "PORT",
}


def settings_variables() -> set[str]:
    names = set(ALSO_READ)
    for path in (ROOT / "crm_project" / "settings").glob("*.py"):
        names |= set(READ.findall(path.read_text()))
    return names


def documented_variables() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


def test_every_setting_is_documented():
    assert settings_variables() - documented_variables() == set()


def test_nothing_documented_is_unused():
    assert documented_variables() - settings_variables() == set()
