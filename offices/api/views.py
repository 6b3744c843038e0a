from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts import selectors as user_selectors
from accounts.api.serializers import UserSerializer
from accounts.api.views import UserFilter
from offices import selectors, services
from offices.api.serializers import OfficeSerializer, OfficeWriteSerializer


@extend_schema(tags=["offices"])
class OfficeViewSet(viewsets.GenericViewSet):
    serializer_class = OfficeSerializer
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return selectors.office_list_for(self.request.user).prefetch_related(*selectors.WITH_HOURS)

    def get_object(self):
        return selectors.office_get_for(self.request.user, self.kwargs["pk"])

    @extend_schema(responses={200: OfficeSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OfficeSerializer(page, many=True).data)

    @extend_schema(responses={200: OfficeSerializer})
    def retrieve(self, request, pk=None):
        return Response(OfficeSerializer(self.get_object()).data)

    @extend_schema(request=OfficeWriteSerializer, responses={201: OfficeSerializer})
    def create(self, request):
        data = OfficeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        office = services.office_create(actor=request.user, **data.validated_data)
        return Response(OfficeSerializer(office).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OfficeWriteSerializer, responses={200: OfficeSerializer})
    def partial_update(self, request, pk=None):
        office = self.get_object()
        data = OfficeWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        office = services.office_update(actor=request.user, office=office, **data.validated_data)
        return Response(OfficeSerializer(office).data)

    @extend_schema(request=OfficeWriteSerializer, responses={200: OfficeSerializer})
    def update(self, request, pk=None):
        return self.partial_update(request, pk)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.office_delete(actor=request.user, office=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: UserSerializer(many=True)}, filters=True)
    @action(detail=True, methods=["get"])
    def members(self, request, pk=None):
        office = self.get_object()
        members = UserFilter(request.GET, queryset=user_selectors.user_list_for(request.user).filter(office=office))
        if not members.is_valid():
            raise ValidationError(members.errors)
        page = self.paginate_queryset(members.qs)
        return self.get_paginated_response(UserSerializer(page, many=True).data)
