from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from applications.representation import ApplicationSerializer
from applications.selectors import application_list_for
from applications.validation import clean
from core.pagination import CursorPagination
from proposals import selectors, services
from proposals.errors import ProposalErrorCode
from proposals.representation import ProposalSerializer
from proposals.states import ProposalStatus
from proposals.validation import (
    ProposalAcceptSerializer,
    ProposalChangeSerializer,
    ProposalCreateSerializer,
    ProposalDeclineSerializer,
    ProposalSendSerializer,
)
from students.selectors import student_and_consultant_named


class ProposalQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProposalStatus.choices, required=False)
    student = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)


class ProposalPagination(CursorPagination):
    ordering = ("-id",)  # type: ignore[assignment]  # DRF takes a tuple (stubs: str)


class ProposalAcceptedSerializer(serializers.Serializer):
    proposal = ProposalSerializer()
    applications = ApplicationSerializer(many=True)


@extend_schema(tags=["proposals"])
class ProposalViewSet(viewsets.GenericViewSet):
    serializer_class = ProposalSerializer
    pagination_class = ProposalPagination

    def get_queryset(self):
        return selectors.proposal_list_for(self.request.user)

    def get_object(self):
        return selectors.proposal_get_for(self.request.user, self.kwargs["pk"])

    def _body(self, proposal):
        return ProposalSerializer(selectors.proposal_get_for(self.request.user, proposal.pk)).data

    @extend_schema(parameters=[ProposalQuerySerializer], responses={200: ProposalSerializer(many=True)})
    def list(self, request):
        query = ProposalQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        proposals = selectors.proposals_filtered(
            selectors.proposal_list_for(request.user),
            status=query.validated_data.get("status"),
            student_id=query.validated_data.get("student"),
        )
        page = self.paginate_queryset(proposals)
        return self.get_paginated_response(ProposalSerializer(page, many=True).data)

    @extend_schema(responses={200: ProposalSerializer})
    def retrieve(self, request, pk=None):
        return Response(ProposalSerializer(self.get_object()).data)

    @extend_schema(request=ProposalCreateSerializer, responses={201: ProposalSerializer})
    def create(self, request):
        asked = clean(ProposalCreateSerializer, request.data)
        student, consultant = student_and_consultant_named(
            request.user,
            asked["student_id"],
            asked["consultant_id"],
            unknown_student=ProposalErrorCode.UNKNOWN_STUDENT,
            unknown_consultant=ProposalErrorCode.UNKNOWN_CONSULTANT,
        )
        proposal = services.proposal_create(
            actor=request.user,
            student=student,
            consultant=consultant,
            items=asked["items"],
            message=asked["message"],
            expires_at=asked["expires_at"],
        )
        return Response(self._body(proposal), status=201)

    @extend_schema(request=ProposalChangeSerializer, responses={200: ProposalSerializer})
    def partial_update(self, request, pk=None):
        proposal = self.get_object()
        asked = clean(ProposalChangeSerializer, request.data)
        proposal = services.proposal_update(actor=request.user, proposal=proposal, data=asked)
        return Response(self._body(proposal))

    @extend_schema(request=ProposalSendSerializer, responses={200: ProposalSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        proposal = self.get_object()
        asked = clean(ProposalSendSerializer, request.data or {})
        proposal = services.proposal_send(actor=request.user, proposal=proposal, expires_at=asked["expires_at"])
        return Response(self._body(proposal))

    @extend_schema(request=ProposalAcceptSerializer, responses={200: ProposalAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        proposal = self.get_object()
        asked = clean(ProposalAcceptSerializer, request.data)
        applications = services.proposal_accept(actor=request.user, proposal=proposal, item_ids=asked["item_ids"])
        ids = [a.pk for a in applications]
        fresh = {a.pk: a for a in application_list_for(request.user).filter(pk__in=ids)}
        return Response(
            {
                "proposal": self._body(proposal),
                "applications": ApplicationSerializer([fresh[i] for i in ids], many=True).data,
            }
        )

    @extend_schema(request=ProposalDeclineSerializer, responses={200: ProposalSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        proposal = self.get_object()
        asked = clean(ProposalDeclineSerializer, request.data or {})
        proposal = services.proposal_decline(actor=request.user, proposal=proposal, reason=asked["reason"])
        return Response(self._body(proposal))
