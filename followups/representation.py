"""A task as every door shows it (REST, the socket's `task_due`, the console): one serializer."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from applications.representation import PersonSerializer
from followups.models import Task, TaskPriority, TaskStatus


def subject_of(task: Task) -> dict[str, Any]:
    """What the task is about, named for a list: `{kind, id, name}`."""
    if task.lead_id is not None and task.lead is not None:
        return {"kind": "lead", "id": task.lead_id, "name": task.lead.full_name}
    if task.student_id is not None and task.student is not None:
        return {"kind": "student", "id": task.student_id, "name": task.student.full_name}
    application = task.application
    assert application is not None
    return {
        "kind": "application",
        "id": task.application_id,
        "name": f"{application.student.full_name}: {application.course.name}",
    }


class SubjectSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["lead", "student", "application"])
    id = serializers.IntegerField()
    name = serializers.CharField()


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    notes = serializers.CharField(allow_blank=True)
    due_at = serializers.DateTimeField()
    priority = serializers.ChoiceField(choices=TaskPriority.choices)
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    overdue = serializers.SerializerMethodField()
    assignee_id = serializers.IntegerField()
    assignee = PersonSerializer()
    lead_id = serializers.IntegerField(allow_null=True)
    student_id = serializers.IntegerField(allow_null=True)
    application_id = serializers.IntegerField(allow_null=True)
    subject = serializers.SerializerMethodField()
    office_id = serializers.IntegerField(allow_null=True)
    reminded_at = serializers.DateTimeField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    done_by_id = serializers.IntegerField(allow_null=True)
    created_by_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_overdue(self, task: Task) -> bool:
        return task.status == TaskStatus.OPEN and task.due_at < timezone.now()

    @extend_schema_field(SubjectSerializer)
    def get_subject(self, task: Task) -> dict[str, Any]:
        return subject_of(task)


def task_payload(task: Task) -> dict[str, Any]:
    return dict(TaskSerializer(task).data)
