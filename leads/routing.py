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
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from accounts.models import Role, User
from core.errors import Forbidden, NotFound, ValidationFailed
from leads.errors import LeadErrorCode
from leads.models import OPEN_STATUSES, Lead, LeadRoutingRule, RoutingCursor
from offices.models import Office

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


def rule_candidates(rule: LeadRoutingRule) -> list[int]:
    """The consultants a rule may choose, in turn order (an unsaved rule under test carries its own)."""
    if rule.consultant_id is not None:
        return [rule.consultant_id]
    preview = getattr(rule, "preview_round_robin", None)
    if preview is not None:
        return sorted(preview)
    return sorted(user.pk for user in rule.round_robin.all())


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
    skipped: list[str] = []
    for rule in rules:
        if not RuleConditions.of(rule).matches(sample):
            continue
        candidates = rule_candidates(rule)
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


# --- the rules themselves: who sees and edits them (managers, their office's), and the test ---------


def routing_rule_list_for(user: User) -> QuerySet[LeadRoutingRule]:
    """super admin: every office's; manager: their office's; anyone else: none (hidden means 404)."""
    rules = LeadRoutingRule.objects.select_related("consultant").prefetch_related("round_robin")
    if not user.is_active:
        return rules.none()
    if user.role == Role.SUPER_ADMIN:
        return rules.order_by("office_id", "order", "id")
    if user.role == Role.MANAGER:
        return rules.filter(office=user.office_id).order_by("order", "id")
    return rules.none()


def routing_rule_get_for(user: User, rule_id: object) -> LeadRoutingRule:
    try:
        return routing_rule_list_for(user).get(pk=int(str(rule_id)))
    except (LeadRoutingRule.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("Routing rule not found.") from None


def _rule_office(actor: User, office_id: int | None) -> int:
    if actor.role == Role.SUPER_ADMIN:
        if office_id is None or not Office.objects.filter(pk=office_id).exists():
            raise ValidationFailed("Name the rule's office (office_id).", code=LeadErrorCode.UNKNOWN_OFFICE)
        return int(office_id)
    if actor.role != Role.MANAGER or not actor.is_active:
        raise Forbidden("Managers edit their office's routing rules.")
    if office_id not in (None, actor.office_id):
        raise ValidationFailed("Unknown office.", code=LeadErrorCode.UNKNOWN_OFFICE)
    assert actor.office_id is not None
    return actor.office_id


def _rule_people(
    office_id: int, consultant_id: int | None, round_robin: list[int] | None
) -> tuple[int | None, list[int]]:
    if (consultant_id is None) == (not round_robin):
        raise ValidationFailed(
            "A rule names one consultant (consultant_id) or a round robin (round_robin), not both.",
            code=LeadErrorCode.RULE_TARGET,
        )
    wanted = {consultant_id} if consultant_id is not None else set(round_robin or ())
    found = set(
        User.objects.filter(pk__in=wanted, office_id=office_id, role=Role.CONSULTANT, is_active=True).values_list(
            "pk", flat=True
        )
    )
    if found != wanted:
        raise ValidationFailed(
            "Routing names active consultants of the rule's office only.",
            code=LeadErrorCode.UNKNOWN_CONSULTANT,
            details={"consultant_ids": sorted(wanted - found)},
        )
    return consultant_id, sorted(wanted) if consultant_id is None else []


def routing_rule_build(*, actor: User, data: dict[str, Any], rule: LeadRoutingRule | None = None) -> LeadRoutingRule:
    """The rule `data` describes (RoutingRuleInputSerializer's), checked, not saved: what the save and the
    test share. On a change, what `data` leaves out stays as it was."""
    office_id = rule.office_id if rule is not None else _rule_office(actor, data.get("office_id"))
    built = rule or LeadRoutingRule(office_id=office_id)
    conditions = data.get("conditions")
    if conditions is not None:
        built.sources = list(conditions.get("sources") or [])
        built.countries = list(conditions.get("countries") or [])
        built.levels = list(conditions.get("levels") or [])
    for name in ("order", "name", "is_active"):
        if name in data:
            setattr(built, name, data[name])
    if "consultant_id" in data or "round_robin" in data:
        consultant_id, round_robin = _rule_people(office_id, data.get("consultant_id"), data.get("round_robin"))
        built.consultant_id = consultant_id
        built.preview_round_robin = round_robin  # type: ignore[attr-defined]
    elif rule is None:
        _rule_people(office_id, None, None)  # (refused: a new rule names someone)
    return built


@transaction.atomic
def routing_rule_save(*, actor: User, data: dict[str, Any], rule: LeadRoutingRule | None = None) -> LeadRoutingRule:
    if rule is not None and not _may_edit(actor, rule):
        raise NotFound("Routing rule not found.")
    built = routing_rule_build(actor=actor, data=data, rule=rule)
    built.save()
    round_robin = getattr(built, "preview_round_robin", None)
    if round_robin is not None:
        built.round_robin.set(round_robin)
    return built


def _may_edit(actor: User, rule: LeadRoutingRule) -> bool:
    return routing_rule_list_for(actor).filter(pk=rule.pk).exists()


@transaction.atomic
def routing_rule_delete(*, actor: User, rule: LeadRoutingRule) -> None:
    if not _may_edit(actor, rule):
        raise NotFound("Routing rule not found.")
    rule.delete()


def routing_test(
    *, actor: User, sample: SampleLead, office_id: int | None = None, rule_data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Whom a lead like `sample` would go to now, without assigning anyone: by one rule before it is
    saved (`rule_data`: `matches` says whether its conditions take the lead), or by the office's rules."""
    office = _rule_office(actor, office_id)
    rules: list[LeadRoutingRule] | None = None
    result: dict[str, Any] = {"matches": None}
    if rule_data is not None:
        built = routing_rule_build(actor=actor, data={**rule_data, "office_id": office}, rule=None)
        built.pk = None
        rules = [built]
        result["matches"] = RuleConditions.of(built).matches(sample)
    cursor_row = RoutingCursor.objects.filter(office_id=office).first()
    choice = choose(
        office_id=office,
        sample=sample,
        rules=rules,
        fallback_after=cursor_row.last_assigned_id if cursor_row is not None else None,
    )
    consultant = choice.consultant
    return {
        **result,
        "office_id": office,
        "rule_id": choice.rule_id,
        "by_rule": choice.rule is not None,
        "consultant_id": consultant.pk if consultant is not None else None,
        "consultant": (
            {"id": consultant.pk, "first_name": consultant.first_name, "last_name": consultant.last_name}
            if consultant is not None
            else None
        ),
        "open_leads": getattr(consultant, "open_leads", None),
        "reason": choice.reason,
        "skipped": choice.skipped,
    }
