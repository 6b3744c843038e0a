"""The socket protocol, machine-readable: the AsyncAPI 3.0 document at /api/ws-schema."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from messaging.asyncapi import document


@require_GET
def ws_schema(request: HttpRequest) -> JsonResponse:
    """Public like /api/schema: it describes the protocol, not anyone's data."""
    return JsonResponse(document(), json_dumps_params={"indent": 1})
