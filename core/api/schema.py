"""OpenAPI pieces shared by the apps' views: the one error body."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer[None]):
    code = serializers.CharField(help_text="Stable machine code, e.g. validation_error, token_expired.")
    message = serializers.CharField(help_text="Human text.")
    details = serializers.DictField(help_text="Per-field messages or other context; may be empty.")


class ErrorSerializer(serializers.Serializer[None]):
    error = ErrorDetailSerializer()


def error_response(*codes: str) -> OpenApiResponse:
    """The error body, with the codes this response may carry."""
    return OpenApiResponse(ErrorSerializer, description="Error codes: " + ", ".join(codes))
