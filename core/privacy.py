"""The contract between the apps that hold a person's data and the `privacy` app that exports and erases it.

Each app holding personal data has a `personal_data.py` module (imported at start-up by the `privacy`
app) that registers one `Area`: its part of a person's export (a JSON file in the ZIP, and the files
that go with it) and of their erasure, and the user foreign keys it answers for (`covers`) or keeps
as they are on purpose (`kept`, each with its reason). `privacy/tests/test_coverage.py` fails when a
model with a foreign key to the user is claimed by no area, so a new model cannot be forgotten. An
app may also register `RetentionRule`s: how long what it holds is kept, applied by `apply_retention`.

Core holds only the contract (it imports no app); the areas live with their data, the orchestration
(selectors, services, the API, the audit) in `privacy`. How to add an area: docs/data-protection.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# What replaces a person's name, email or phone in free text written by others (notifications,
# timeline entries, titles) once they are erased.
REMOVED = "[removed]"


@dataclass(frozen=True)
class ExportFile:
    """A stored file that goes into the export's ZIP at `path` (e.g. "documents/12-transcript.pdf")."""

    path: str
    storage_key: str


@dataclass
class AreaExport:
    """An area's part of an export: `data` (anything JSON can hold; datetimes too) and files."""

    data: Any
    files: list[ExportFile] = field(default_factory=list)


@dataclass
class Erasure:
    """One erasure in progress, handed to every area's `erase` inside its one transaction.

    `identifiers` are the person's name, email and phone as they were (the accounts area replaces
    them on the user row last): areas use them to find what names the person in free text."""

    person: Any  # accounts.models.User
    actor: Any
    at: datetime
    identifiers: tuple[str, ...]
    email: str
    files_to_delete: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int) -> None:
        if n:
            self.counts[what] = self.counts.get(what, 0) + n

    def delete_file(self, key: str) -> None:
        """Removed from storage once the erasure commits (a rollback leaves the files where they were)."""
        if key:
            self.files_to_delete.append(key)

    def scrub(self, text: str) -> str:
        """`text` with every identifier of the person (any case) replaced by REMOVED."""
        pattern = self.pattern()
        return pattern.sub(REMOVED, text) if pattern and text else text

    def pattern(self) -> re.Pattern[str] | None:
        usable = sorted({i for i in self.identifiers if len(i) >= 3}, key=len, reverse=True)
        return re.compile("|".join(re.escape(i) for i in usable), re.IGNORECASE) if usable else None


@dataclass(frozen=True)
class Area:
    """What one app holds about a person, for their export and their erasure.

    - `name`: the export's `<name>.json` and the folder of its files;
    - `description`: that file's paragraph in the export's README;
    - `covers`: "app_label.Model.field" → what the area does with the rows that foreign key links to
      the person (exported, erased, pseudonymised);
    - `kept`: "app_label.Model.field" → why rows linked by that key are kept unchanged (a staff
      member's action on someone else's record: the user row itself is pseudonymised);
    - `export(person) -> AreaExport`; `erase(erasure)` inside the erasure's transaction;
    - `export_bytes(person)`: how many bytes of files the export would carry (large exports are built
      in the background);
    - `order`: erasures run in this order (accounts, which pseudonymises the user row, last).
    """

    name: str
    description: str
    export: Callable[[Any], AreaExport]
    erase: Callable[[Erasure], None]
    covers: Mapping[str, str] = field(default_factory=dict)
    kept: Mapping[str, str] = field(default_factory=dict)
    export_bytes: Callable[[Any], int] | None = None
    order: int = 100


@dataclass(frozen=True)
class RetentionRule:
    """How long something is kept: `apply(now)` removes or clears what is older, returns how many."""

    name: str
    setting: str  # the setting holding the period (days or hours), e.g. "NOTIFICATION_READ_RETENTION_DAYS"
    description: str
    apply: Callable[[datetime], int]


_areas: dict[str, Area] = {}
_rules: dict[str, RetentionRule] = {}


def register_area(area: Area) -> Area:
    existing = _areas.get(area.name)
    if existing is not None and existing.export.__module__ != area.export.__module__:
        raise ValueError(f"two personal data areas are called {area.name!r}")
    _areas[area.name] = area
    return area


def areas() -> list[Area]:
    return sorted(_areas.values(), key=lambda area: (area.order, area.name))


def register_retention(rule: RetentionRule) -> RetentionRule:
    _rules[rule.name] = rule
    return rule


def retention_rules() -> list[RetentionRule]:
    return list(_rules.values())
