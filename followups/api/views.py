from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from applications.validation import clean
from core.pagination import CursorPagination
from core.serializer_fields import id_field
from followups import selectors, services
from followups.models import TaskStatus
from followups.representation import TaskSerializer
from followups.validation import TaskChangeSerializer, TaskCreateSerializer


class TaskQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    assignee = id_field()
    lead = id_field()
    student = id_field()
    application = id_field()
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)


class TaskPagination(CursorPagination):
    ordering = ("due_at", "id")  # type: ignore[assignment]  # DRF takes a tuple (stubs: str)


@extend_schema(tags=["tasks"])
class TaskViewSet(viewsets.GenericViewSet):
    serializer_class = TaskSerializer
    pagination_class = TaskPagination

    def get_queryset(self):
        return selectors.task_list_for(self.request.user)

    def get_object(self):
        return selectors.task_get_for(self.request.user, self.kwargs["pk"])

    def _body(self, task):
        return TaskSerializer(selectors.task_get_for(self.request.user, task.pk)).data

    @extend_schema(parameters=[TaskQuerySerializer], responses={200: TaskSerializer(many=True)})
    def list(self, request):
        query = TaskQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        tasks = selectors.tasks_filtered(
            selectors.task_list_for(request.user),
            status=asked.get("status"),
            assignee_id=asked.get("assignee"),
            lead_id=asked.get("lead"),
            student_id=asked.get("student"),
            application_id=asked.get("application"),
            overdue=asked.get("overdue"),
        )
        page = self.paginate_queryset(tasks)
        return self.get_paginated_response(TaskSerializer(page, many=True).data)

    @extend_schema(responses={200: TaskSerializer})
    def retrieve(self, request, pk=None):
        return Response(TaskSerializer(self.get_object()).data)

    @extend_schema(request=TaskCreateSerializer, responses={201: TaskSerializer})
    def create(self, request):
        task = services.task_create(actor=request.user, **clean(TaskCreateSerializer, request.data))
        return Response(self._body(task), status=201)

    @extend_schema(request=TaskChangeSerializer, responses={200: TaskSerializer})
    def partial_update(self, request, pk=None):
        task = self.get_object()
        task = services.task_update(actor=request.user, task=task, data=clean(TaskChangeSerializer, request.data))
        return Response(self._body(task))

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.task_delete(actor=request.user, task=self.get_object())
        return Response(status=204)
