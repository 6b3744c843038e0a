"""A proposal as every door shows it (REST, the socket's `proposal_received`, the console): one serializer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from applications.representation import CourseSummarySerializer, PersonSerializer
from proposals.models import Proposal, ProposalItem
from proposals.states import ProposalStatus, effective_status
from study.vocabulary import format_intake


def item_cost(item: ProposalItem) -> dict[str, Any]:
    """A year's estimate: tuition plus living; `total` only when both are in one currency."""
    same = item.living is not None and item.living_currency == item.currency
    total = item.tuition + item.living if same and item.living is not None else None
    return {
        "tuition": item.tuition,
        "living": item.living,
        "living_currency": item.living_currency or None,
        "total": total,
        "currency": item.currency,
    }


class CostSerializer(serializers.Serializer):
    tuition = serializers.DecimalField(max_digits=12, decimal_places=2)
    living = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, help_text="Per year")
    living_currency = serializers.CharField(allow_null=True)
    total = serializers.DecimalField(
        max_digits=13, decimal_places=2, allow_null=True, help_text="Null when living is unknown or in another currency"
    )
    currency = serializers.CharField()


class CostRangeSerializer(serializers.Serializer):
    currency = serializers.CharField()
    lowest = serializers.DecimalField(max_digits=13, decimal_places=2)
    highest = serializers.DecimalField(max_digits=13, decimal_places=2)


class ProposalItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    course_id = serializers.IntegerField()
    course = CourseSummarySerializer()
    intake = serializers.SerializerMethodField()
    note = serializers.CharField(allow_blank=True)
    eligible = serializers.BooleanField(help_text="False: the student's profile did not meet the requirements")
    estimated_cost = serializers.SerializerMethodField()
    application_id = serializers.IntegerField(allow_null=True, help_text="Set once the student accepted it")

    @extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2027-09"})
    def get_intake(self, item: ProposalItem) -> str | None:
        return format_intake(item.intake)

    @extend_schema_field(CostSerializer)
    def get_estimated_cost(self, item: ProposalItem) -> dict[str, Any]:
        return dict(CostSerializer(item_cost(item)).data)


class ProposalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    student_id = serializers.IntegerField()
    student = PersonSerializer()
    consultant_id = serializers.IntegerField()
    consultant = PersonSerializer()
    office_id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    message = serializers.CharField(allow_blank=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decline_reason = serializers.CharField(allow_blank=True)
    items = ProposalItemSerializer(many=True)
    estimated_cost = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field({"type": "string", "enum": list(ProposalStatus.values)})
    def get_status(self, proposal: Proposal) -> str:
        """A sent proposal past its expiry reads `expired` before the job marks it."""
        return effective_status(proposal.status, proposal.expires_at, timezone.now())

    @extend_schema_field(CostRangeSerializer(many=True))
    def get_estimated_cost(self, proposal: Proposal) -> list[dict[str, Any]]:
        """A year's cost (tuition and living) from the cheapest item to the dearest, per currency."""
        ranges: dict[str, list[Decimal]] = {}
        for item in proposal.items.all():
            cost = item_cost(item)
            ranges.setdefault(item.currency, []).append(cost["total"] if cost["total"] is not None else item.tuition)
        return [
            dict(CostRangeSerializer({"currency": c, "lowest": min(v), "highest": max(v)}).data)
            for c, v in sorted(ranges.items())
        ]


def proposal_payload(proposal: Proposal) -> dict[str, Any]:
    return dict(ProposalSerializer(proposal).data)
