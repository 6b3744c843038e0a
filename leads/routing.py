"""Lead routing: who gets a lead created without a consultant. One place, `leads.services.lead_route`, called by
`lead_create` and `lead_create_for_signup` (so every door: API, console walk-in, signup, social sign-in, CSV import).

An office's rules are tried in order; a rule matches a lead whose source, wished countries and levels
are among its conditions (an empty list matches anything). It names one consultant, or a round robin;
a consultant at their `max_open_leads`, deactivated or moved to another office is skipped. No rule
chose: a round robin over the office's active consultants with room. Nobody has room: the lead waits
for a manager. Routing never leaves the lead's office.

Under a transaction-scoped PostgreSQL advisory lock per office: concurrent creations in one office
route one after the other, each counting the others' leads, so no cap is broken. The choice itself
(`RuleConditions.matches`, `next_in_turn`) is pure code, tested without a database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q

from accounts.models import Role, User
from leads.models import OPEN_STATUSES, Lead, LeadRoutingRule, RoutingCursor

_ROUTING_LOCK_NAMESPACE = 0x2007E


@dataclass(frozen=True)
class SampleLead:
    """What routing reads of a lead: its source and its wishes."""

    source: str
    countries: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()

    @classmethod
    def of(cls, lead: Lead) -> SampleLead:
        wishes = lead.preferences or {}
        return cls(
            source=lead.source,
            countries=tuple(wishes.get("countries") or ()),
            levels=tuple(wishes.get("levels") or ()),
        )


@dataclass(frozen=True)
class RuleConditions:
    sources: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule: LeadRoutingRule) -> RuleConditions:
        return cls(tuple(rule.sources or ()), tuple(rule.countries or ()), tuple(rule.levels or ()))

    def matches(self, lead: SampleLead) -> bool:
        if self.sources and lead.source not in self.sources:
            return False
        if self.countries and not set(self.countries) & set(lead.countries):
            return False
        return not (self.levels and not set(self.levels) & set(lead.levels))


def next_in_turn(candidates: Sequence[int], *, after: int | None, with_room: Collection[int]) -> int | None:
    """The first candidate after `after` (in the candidates' order, wrapping round) who has room; None
    when nobody has."""
    order = list(dict.fromkeys(candidates))
    if not order:
        return None
    start = order.index(after) + 1 if after in order else 0
    for offset in range(len(order)):
        candidate = order[(start + offset) % len(order)]
        if candidate in with_room:
            return candidate
    return None


@dataclass
class Choice:
    consultant: User | None
    rule: LeadRoutingRule | None  # None: the office's fallback round robin (or nobody)
    reason: str
    skipped: list[str] = field(default_factory=list)

    @property
    def rule_id(self) -> int | None:
        return self.rule.pk if self.rule is not None else None


def _consultants_with_load(office_id: int) -> dict[int, User]:
    """The office's active consultants, each with `open_leads` counted. One query."""
    rows = User.objects.filter(office_id=office_id, role=Role.CONSULTANT, is_active=True).annotate(
        open_leads=Count("assigned_leads", filter=Q(assigned_leads__status__in=OPEN_STATUSES))
    )
    return {user.pk: user for user in rows.order_by("id")}


def _has_room(user: User) -> bool:
    cap = user.max_open_leads
    return cap is None or user.open_leads < cap  # type: ignore[attr-defined]


def choose(
    *,
    office_id: int,
    sample: SampleLead,
    rules: Sequence[LeadRoutingRule] | None = None,
    fallback_after: int | None = None,
) -> Choice:
    """Whom the office's rules (or `rules`, e.g. one unsaved rule to test) give a lead like `sample`, with
    the office's current loads. Reads only; the caller holds the lock when it will write."""
    if rules is None:
        rules = list(
            LeadRoutingRule.objects.filter(office_id=office_id, is_active=True)
            .prefetch_related("round_robin")
            .order_by("order", "id")
        )
    consultants = _consultants_with_load(office_id)
    room = {pk for pk, user in consultants.items() if _has_room(user)}
    skipped = []
    for rule in rules:
        if not RuleConditions.of(rule).matches(sample):
            continue
        if rule.consultant_id is not None:
            candidates = [rule.consultant_id]
        else:
            candidates = sorted(user.pk for user in rule.round_robin.all())
        chosen = next_in_turn(candidates, after=rule.last_assigned_id, with_room=room)
        if chosen is not None:
            return Choice(consultants[chosen], rule, f"routed by {rule.label}", skipped)
        skipped.append(f"{rule.label}: nobody with room")
    chosen = next_in_turn(list(consultants), after=fallback_after, with_room=room)
    if chosen is not None:
        return Choice(consultants[chosen], None, "routed by the office's round robin", skipped)
    return Choice(None, None, "no consultant has room: waiting for a manager", skipped)


def route_choose(*, lead: Lead) -> Choice | None:
    """Under the office's routing lock (held until the creating transaction ends): whom the rules give
    this new lead, the rule's (or the office's) rotation moved on to them. None: nothing to route (it
    has a consultant, or no office yet). `leads.services.lead_route` makes the assignment."""
    if lead.assigned_to_id is not None or lead.office_id is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ROUTING_LOCK_NAMESPACE, lead.office_id])
    cursor_row, _ = RoutingCursor.objects.get_or_create(office_id=lead.office_id)
    choice = choose(office_id=lead.office_id, sample=SampleLead.of(lead), fallback_after=cursor_row.last_assigned_id)
    if choice.consultant is not None:
        if choice.rule is not None:
            LeadRoutingRule.objects.filter(pk=choice.rule.pk).update(last_assigned=choice.consultant)
        else:
            RoutingCursor.objects.filter(pk=cursor_row.pk).update(last_assigned=choice.consultant)
    return choice
