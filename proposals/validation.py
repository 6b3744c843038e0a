"""What a proposal's writes take, validated once (DRF serializers), whichever door they came through."""

from __future__ import annotations

from rest_framework import serializers

from study.serializers import IntakeField

MAX_ITEMS = 20


class ItemInputSerializer(serializers.Serializer):
    course_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    intake = IntakeField(help_text="YYYY-MM")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ProposalCreateSerializer(serializers.Serializer):
    student_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    consultant_id = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: you (consultants), or the student's consultant",
    )
    items = ItemInputSerializer(many=True, min_length=1, max_length=MAX_ITEMS)  # type: ignore[call-arg]  # (ListSerializer takes them; stubs lack them)
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ProposalChangeSerializer(serializers.Serializer):
    items = ItemInputSerializer(many=True, min_length=1, max_length=MAX_ITEMS, required=False)  # type: ignore[call-arg]  # (as above)
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ProposalSendSerializer(serializers.Serializer):
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Default: as set")


class ProposalAcceptSerializer(serializers.Serializer):
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), min_length=1, max_length=MAX_ITEMS
    )


class ProposalDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
