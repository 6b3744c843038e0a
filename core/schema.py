"""The OpenAPI schema as the API really answers (drf-spectacular), so generated clients are right.

Written once here rather than on every view:
- every list is a page, `{"results": [...], "next": url|null}` (core.pagination), also for the
  APIViews that paginate by hand;
- every error status an operation can answer, each with the one error body (core.errors):
  400 when it reads input, 401 everywhere (a bad or expired token is refused on any route),
  403 where a role may be refused, 404 where a path names an object, 409 where a write can
  conflict, 413 and 415 where it takes a body, 429 and 503 everywhere (with `Retry-After`: a
  dependency that is down answers 503, core/outages.py);
- paths as clients call them, without the trailing slash (both work), ids in paths as integers;
- times of day as `HH:MM[:SS]` strings (what the API sends, e.g. `"09:00:00"`), not RFC 3339's
  `full-time`, which needs a UTC offset.
Where a rule is wrong for one operation, the view says so with `extend_schema(responses=...)`:
a status a view declares is never replaced.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse
from rest_framework.fields import Field
from rest_framework.request import Request

from core.api.schema import ErrorSerializer
from core.errors import registry_schema
from core.pagination import MAX_LIMIT, CursorPagination

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`validation_error` with per-field `details`, or a rule's own code)",
    "401": "Missing, invalid or expired access token; or wrong credentials",
    "403": "You may see this but not do this",
    "404": "No such object, or one you may not see",
    "409": "Conflicts with the current state (taken email, name or time slot; a time the office is closed)",
    "413": "The request body is larger than the server accepts",
    "415": "Unsupported Content-Type for the body",
    "429": "Too many requests: wait `Retry-After` seconds",
    "503": "PostgreSQL, Redis or file storage is briefly down (`service_unavailable`): retry after `Retry-After` s",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying"}}

# Operations that may answer 403 to a role, by path (without trailing slash) and method ("*" every
# method, "write" all but GET): the CRM apps' role rules, and the reads only some roles may make.
FORBIDDEN = [
    (r"^/api/v1/(users|offices|leads|appointments|documents|announcements|applications)(/.*)?$", "*"),
    (r"^/api/v1/(universities|courses)(/.*)?$", "write"),  # super admins and managers write the catalogue
    (r"^/api/v1/(students/\{student_id\}|auth/me)/profile$", "write"),  # receptionists read profiles
    (r"^/api/v1/conversations/\{conversation_id\}(/participants(/\{user_id\})?)?$", "write"),  # group admins only
    (r"^/api/v1/canned-replies(/\{reply_id\})?$", "write"),  # the office's managers
    (r"^/api/v1/messages/\{message_id\}$", "write"),  # the sender only
    (r"^/api/v1/conversations/monitoring/.*$", "GET"),
    (r"^/api/v1/reports/.*$", "GET"),
    (r"^/socket-stats$", "GET"),
    (r"^/api/v1/(proposals|tasks|lead-routing-rules)(/.*)?$", "write"),  # issue 22's doors: staff roles only
]
# Operations that may answer 409 (core.errors.Conflict, or the database's own unique rules).
CONFLICTS = [
    (r"^/api/v1/auth/signup$", "POST"),
    (r"^/api/v1/users(/\{id\})?$", "*"),
    (r"^/api/v1/offices(/\{id\})?$", "*"),
    (r"^/api/v1/leads(/\{id\})?$", "*"),
    (r"^/api/v1/leads/\{id\}/convert$", "POST"),
    (r"^/api/v1/appointments(/\{id\}(/reschedule)?)?$", "*"),
    (r"^/api/v1/(universities|courses)(/\{id\})?$", "*"),  # a taken natural key; a university or course in use
    (r"^/api/v1/applications(/\{id\}(/transition)?)?$", "*"),  # an open one already; a move that lost a race
    (r"^/api/v1/canned-replies(/\{reply_id\})?$", "write"),
    (r"^/api/v1/proposals(/\{id\}(/(send|accept|decline))?)?$", "write"),  # a move the proposal's state refuses
    (r"^/api/v1/tasks(/\{id\})?$", "write"),
    (r"^/api/v1/lead-routing-rules(/\{id\})?$", "write"),
]
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$")


def _listed(rules: Sequence[tuple[str, str]], path: str, method: str) -> bool:
    return any(
        re.match(pattern, path) and (allowed in ("*", method) or (allowed == "write" and method != "GET"))
        for pattern, allowed in rules
    )


class AutoSchema(openapi.AutoSchema):
    def _get_paginator(self) -> Any:
        paginator = super()._get_paginator()
        if paginator is None and self.method == "GET":
            return CursorPagination()  # APIViews that page by hand answer the same page shape
        return paginator

    def map_parsers(self) -> list[str]:
        """A JSON endpoint documents JSON only (form encodings also parse, but no client should use
        them); upload endpoints document multipart."""
        media_types = super().map_parsers()
        return ["application/json"] if "application/json" in media_types else media_types

    def _insert_field_validators(self, field: Field[Any, Any, Any, Any], schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        if schema.get("format") in ("email", "uri") and _may_be_blank(field):
            del schema["format"]  # "" is a valid value here, and it is no email address or URI

    def _body_fields(self) -> list[str]:
        serializer = self.get_request_serializer()
        if isinstance(serializer, dict):  # {media type: schema or serializer}, as upload views declare
            return [
                name
                for schema in serializer.values()
                if isinstance(schema, dict)
                for name in schema.get("properties", {})
            ]
        fields = getattr(force_instance(serializer), "fields", None)
        return list(fields or [])

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        path = _client_path(self.path)
        statuses = {"401", "429", "503"}
        body = self._get_request_body()
        query = [p["name"] for p in self._get_parameters() if p["in"] == "query"]
        if self.method != "GET":
            statuses.add("400")  # bad input, or a rule of the object's current state
        if body is not None:
            statuses |= {"413", "415"}
        if query:
            statuses.add("400")
        fields = self._body_fields() if body is not None else []
        if "{" in path or any(_names_an_object(name) for name in [*query, *fields]):
            statuses.add("404")  # the object named, or one the body or query names, is not yours to see
        if _listed(FORBIDDEN, path, self.method):
            statuses.add("403")
        if _listed(CONFLICTS, path, self.method) and self.method != "GET":
            statuses.add("409")
        for status in sorted(statuses):
            if status not in responses:  # what a view declares itself stands
                body = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status])
                responses[status] = self._get_response_for_code(body, status, media_types=["application/json"])
            if status in ("429", "503"):
                responses[status].setdefault("headers", {}).update(RETRY_AFTER)
        return responses


def _may_be_blank(field: Field[Any, Any, Any, Any]) -> bool:
    if getattr(field, "allow_blank", False):
        return True
    model = getattr(getattr(getattr(field, "parent", None), "Meta", None), "model", None)
    source = field.source
    if model is None or not isinstance(source, str) or not source or "." in source:
        return False
    try:
        return bool(model._meta.get_field(source).blank)  # a read-only copy of a blank-able model field
    except FieldDoesNotExist:
        return False


def _names_an_object(field: str) -> bool:
    return field.endswith(("_id", "_ids")) or field in (
        "office",
        "consultant",
        "student",
        "lead",
        "owner",
        "course",
        "university",
        "eligible_for",
    )


def _client_path(path: str) -> str:
    return path.rstrip("/") or "/"


def postprocess(
    result: dict[str, Any], generator: SchemaGenerator, request: Request | None, public: bool
) -> dict[str, Any]:
    """Paths without the trailing slash, ids in paths as integers, and times of day as sent."""
    result["paths"] = {_client_path(path): item for path, item in result["paths"].items()}
    for item in result["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["in"] == "path" and (parameter["name"] == "id" or parameter["name"].endswith("_id")):
                    parameter["schema"] = {"type": "integer"}  # routes match digits: ids, as in every body
                if parameter["in"] == "query" and parameter["name"] == "limit":  # one maximum, every list
                    parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
                    parameter["description"] = f"Items per page, 1 to {MAX_LIMIT} (more is a 400 `validation_error`)"
    schemas = result.get("components", {}).get("schemas", {})
    _fix_times(schemas)
    if "ErrorDetail" in schemas:
        schemas["ErrorDetail"]["properties"]["code"] = registry_schema()
    return result


def _fix_times(node: object) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node["pattern"] = _TIME.pattern
            node.setdefault("example", "09:00:00")
        for value in node.values():
            _fix_times(value)
    elif isinstance(node, list):
        for value in node:
            _fix_times(value)
