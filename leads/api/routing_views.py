"""`lead-routing-rules/`: managers edit their office's ordered rules, and test one against a sample lead
before saving it (leads.routing)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.pagination import CursorPagination
from core.serializer_fields import PersonSerializer, clean, id_field
from leads import routing
from leads.models import LeadRoutingRule, LeadSource
from study.serializers import CountryField
from study.vocabulary import StudyLevel


class ConditionsSerializer(serializers.Serializer):
    sources = serializers.ListField(
        child=serializers.ChoiceField(choices=LeadSource.choices), max_length=10, required=False, default=list
    )
    countries = serializers.ListField(child=CountryField(), max_length=50, required=False, default=list)
    levels = serializers.ListField(
        child=serializers.ChoiceField(choices=StudyLevel.choices), max_length=10, required=False, default=list
    )


class RoutingRuleInputSerializer(serializers.Serializer):
    office_id = id_field(required=False, allow_null=True, help_text="Default: your office")
    order = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    conditions = ConditionsSerializer(required=False)
    consultant_id = id_field(required=False, allow_null=True)
    round_robin = serializers.ListField(child=id_field(), max_length=100, required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


class RoutingRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    office_id = serializers.IntegerField()
    order = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    conditions = serializers.SerializerMethodField()
    consultant_id = serializers.IntegerField(allow_null=True)
    round_robin = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    last_assigned_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_conditions(self, rule: LeadRoutingRule) -> dict:
        return {"sources": rule.sources, "countries": rule.countries, "levels": rule.levels}

    def get_round_robin(self, rule: LeadRoutingRule) -> list[int]:
        return routing.rule_candidates(rule) if rule.consultant_id is None else []


class SampleLeadSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=LeadSource.choices)  # type: ignore[assignment]  # a field named like a Field attribute (DRF allows)
    countries = serializers.ListField(child=CountryField(), max_length=50, required=False, default=list)
    levels = serializers.ListField(
        child=serializers.ChoiceField(choices=StudyLevel.choices), max_length=10, required=False, default=list
    )


class RoutingTestInputSerializer(serializers.Serializer):
    office_id = id_field(required=False, allow_null=True, default=None)
    lead = SampleLeadSerializer()
    rule = RoutingRuleInputSerializer(required=False, allow_null=True, default=None, help_text="Unsaved: test it")


class RoutingTestSerializer(serializers.Serializer):
    matches = serializers.BooleanField(allow_null=True, help_text="With `rule`: whether its conditions take the lead")
    office_id = serializers.IntegerField()
    rule_id = serializers.IntegerField(allow_null=True)
    by_rule = serializers.BooleanField(help_text="False: the office's round robin (or nobody) chose")
    consultant_id = serializers.IntegerField(allow_null=True)
    consultant = PersonSerializer(allow_null=True)
    open_leads = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    skipped = serializers.ListField(child=serializers.CharField())


class RulePagination(CursorPagination):
    ordering = ("order", "id")  # type: ignore[assignment]  # DRF takes a tuple (stubs: str)


@extend_schema(tags=["leads"])
class RoutingRuleViewSet(viewsets.GenericViewSet):
    serializer_class = RoutingRuleSerializer
    pagination_class = RulePagination

    def get_queryset(self):
        return routing.routing_rule_list_for(self.request.user)

    def get_object(self):
        return routing.routing_rule_get_for(self.request.user, self.kwargs["pk"])

    def _body(self, rule):
        return RoutingRuleSerializer(routing.routing_rule_get_for(self.request.user, rule.pk)).data

    @extend_schema(responses={200: RoutingRuleSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(routing.routing_rule_list_for(request.user))
        return self.get_paginated_response(RoutingRuleSerializer(page, many=True).data)

    @extend_schema(responses={200: RoutingRuleSerializer})
    def retrieve(self, request, pk=None):
        return Response(RoutingRuleSerializer(self.get_object()).data)

    @extend_schema(request=RoutingRuleInputSerializer, responses={201: RoutingRuleSerializer})
    def create(self, request):
        data = clean(RoutingRuleInputSerializer, request.data)
        return Response(self._body(routing.routing_rule_save(actor=request.user, data=data)), status=201)

    @extend_schema(request=RoutingRuleInputSerializer, responses={200: RoutingRuleSerializer})
    def partial_update(self, request, pk=None):
        rule = self.get_object()
        data = clean(RoutingRuleInputSerializer, request.data)
        data.pop("office_id", None)  # a rule stays in its office
        return Response(self._body(routing.routing_rule_save(actor=request.user, data=data, rule=rule)))

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        routing.routing_rule_delete(actor=request.user, rule=self.get_object())
        return Response(status=204)

    @extend_schema(request=RoutingTestInputSerializer, responses={200: RoutingTestSerializer})
    @action(detail=False, methods=["post"])
    def test(self, request):
        asked = clean(RoutingTestInputSerializer, request.data)
        lead = asked["lead"]
        sample = routing.SampleLead(lead["source"], tuple(lead["countries"]), tuple(lead["levels"]))
        result = routing.routing_test(
            actor=request.user, sample=sample, office_id=asked["office_id"], rule_data=asked["rule"]
        )
        return Response(RoutingTestSerializer(result).data)
