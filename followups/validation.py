"""What a task's writes take, validated once (DRF serializers)."""

from __future__ import annotations

from rest_framework import serializers

from core.serializer_fields import id_field
from followups.models import TaskPriority, TaskStatus


class TaskCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    due_at = serializers.DateTimeField()
    priority = serializers.ChoiceField(choices=TaskPriority.choices, required=False, default=TaskPriority.NORMAL)
    assignee_id = id_field(required=False, allow_null=True, default=None, help_text="Default: you")
    lead_id = id_field(required=False, allow_null=True, default=None)
    student_id = id_field(required=False, allow_null=True, default=None)
    application_id = id_field(required=False, allow_null=True, default=None)


class TaskChangeSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    due_at = serializers.DateTimeField(required=False)
    priority = serializers.ChoiceField(choices=TaskPriority.choices, required=False)
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    assignee_id = id_field(required=False)
