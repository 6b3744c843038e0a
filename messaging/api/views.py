from __future__ import annotations

from typing import Any

from django.db.models import F
from django.http import HttpResponseBase, StreamingHttpResponse
from django.utils.http import urlencode
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import UserSerializer
from accounts.api.views import UserFilter
from accounts.requests import AuthedRequest
from core.errors import ValidationFailed
from core.pagination import CursorPagination as BaseCursor
from core.uploads import file_response, limit_uploads
from messaging import events, exports, search, selectors, services
from messaging.api import serializers as s
from messaging.errors import MessagingErrorCode
from messaging.models import AuditAction, Conversation, Participant


def _conversation_body(conversation_id: int, me: Participant | None = None) -> dict[str, Any]:
    conversation = selectors.conversation_detail(conversation_id)
    return events.conversation_payload(conversation, participants=conversation.participants.all(), me=me)


class ConversationCursor(BaseCursor):
    ordering = ("-activity", "-conversation_id")  # type: ignore[assignment]  # DRF takes a tuple (stubs: str)
    page_size = 30


class ConversationsView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("archived", bool),
            OpenApiParameter("pinned", bool),
            s.ConversationListQuerySerializer,
            OpenApiParameter("limit", int),
        ],
        responses={200: s.ConversationSerializer(many=True)},
        tags=["conversations"],
    )
    def get(self, request: AuthedRequest) -> Response:
        flags: dict[str, Any] = {}
        for name in ("archived", "pinned"):
            value = request.query_params.get(name)
            if value is not None:
                flags[name] = value.lower() in ("1", "true", "yes")
        query = s.validated(s.ConversationListQuerySerializer, request.query_params)
        memberships = selectors.conversation_list_for(
            request.user, status=query.get("status"), q=query.get("q", ""), **flags
        ).annotate(activity=F("conversation__last_activity_at"))
        paginator = ConversationCursor()
        page = paginator.paginate_queryset(memberships, request, view=self) or []
        return paginator.get_paginated_response(
            [
                events.conversation_payload(m.conversation, participants=m.conversation.participants.all(), me=m)
                for m in page
            ]
        )

    @extend_schema(
        request=s.ConversationCreateSerializer,
        responses={201: s.ConversationSerializer, 200: s.ConversationSerializer},
        tags=["conversations"],
    )
    def post(self, request: AuthedRequest) -> Response:
        data = s.validated(s.ConversationCreateSerializer, request.data)
        conversation, created = services.conversation_create(actor=request.user, **data)
        me = selectors.membership_get(request.user, conversation.id)
        return Response(
            _conversation_body(conversation.id, me), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ConversationDetailView(APIView):
    @extend_schema(responses={200: s.ConversationSerializer}, tags=["conversations"])
    def get(self, request: AuthedRequest, conversation_id: str) -> Response:
        conversation, me = selectors.conversation_access(request.user, conversation_id)
        if me is None:
            services.monitoring_audit_record(
                actor=request.user, action=AuditAction.MONITOR_READ, conversation=conversation
            )
        else:
            me = selectors.membership_with_triage(request.user, conversation.id)
        return Response(_conversation_body(conversation.id, me))

    @extend_schema(
        request=s.ConversationUpdateSerializer, responses={200: s.ConversationSerializer}, tags=["conversations"]
    )
    def patch(self, request: AuthedRequest, conversation_id: str) -> Response:
        membership = selectors.membership_get(request.user, conversation_id)
        data = s.validated(s.ConversationUpdateSerializer, request.data)
        services.conversation_update(actor=request.user, conversation=membership.conversation, **data)
        membership = selectors.membership_with_triage(request.user, membership.conversation_id)
        return Response(_conversation_body(membership.conversation_id, membership))


# Built once (the hottest endpoints): see `serializers.Prebuilt`.
_page_query = s.Prebuilt(s.MessagePageQuerySerializer)
_send_body = s.Prebuilt(s.MessageSendSerializer)


class ConversationMessagesView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("before", int), OpenApiParameter("after", int), OpenApiParameter("limit", int)],
        responses={200: s.MessagePageSerializer},
        tags=["conversations"],
        description=(
            "Messages by `seq`, oldest first. `after=<seq>` catches up after a reconnect; `before=<seq>` scrolls back."
        ),
    )
    def get(self, request: AuthedRequest, conversation_id: str) -> Response:
        query = _page_query(request.query_params)
        page = {"before": query.get("before"), "after": query.get("after"), "limit": query["limit"]}
        found = selectors.messages_page_for(request.user, conversation_id, **page)
        if found is None:  # not a participant: a monitor in scope reads (audited), anyone else gets 404
            conversation = selectors.conversation_get_for_monitoring(request.user, conversation_id)
            services.monitoring_audit_record(
                actor=request.user, action=AuditAction.MONITOR_READ, conversation=conversation
            )
            found = selectors.messages_page(conversation, **page)
        messages, more = found
        next_url = None
        if more and messages:
            key, seq = ("after", messages[-1].seq) if "after" in query else ("before", messages[0].seq)
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode({key: seq, 'limit': query['limit']})}")
        users: dict[int | None, dict[str, Any] | None] = {}  # each sender's payload built once a page
        return Response({"results": [events.message_payload(m, users=users) for m in messages], "next": next_url})


class ConversationReadView(APIView):
    @extend_schema(request=s.MarkReadSerializer, responses={200: s.ReadStateSerializer}, tags=["conversations"])
    def patch(self, request: AuthedRequest, conversation_id: str) -> Response:
        conversation, _ = selectors.conversation_access(request.user, conversation_id)
        data = s.validated(s.MarkReadSerializer, request.data)
        # monitors read without leaving receipts: the service answers them 404
        seq = services.conversation_mark_read(user=request.user, conversation=conversation, seq=data.get("seq"))
        return Response({"conversation_id": conversation.id, "seq": seq})


class ConversationsReadAllView(APIView):
    @extend_schema(
        request=None,
        responses={200: s.ReadAllSerializer},
        tags=["conversations"],
        summary="Mark every conversation read",
        description="Marks every conversation of yours read up to its latest message.",
    )
    def post(self, request: AuthedRequest) -> Response:
        moved = services.conversations_mark_all_read(user=request.user)
        return Response({"read": [{"conversation_id": conversation_id, "seq": seq} for conversation_id, seq in moved]})


class ConversationClearView(APIView):
    @extend_schema(
        request=None,
        responses={200: s.ClearedSerializer},
        tags=["conversations"],
        summary="Clear my history of a conversation",
        description="Clears your history of this conversation: every message up to now is hidden from you "
        "alone (others keep theirs); messages sent later show as usual.",
    )
    def post(self, request: AuthedRequest, conversation_id: str) -> Response:
        membership = selectors.membership_get(request.user, conversation_id)
        seq = services.conversation_clear_history(user=request.user, conversation=membership.conversation)
        return Response({"conversation_id": membership.conversation_id, "cleared_seq": seq})


class UnreadTotalView(APIView):
    @extend_schema(responses={200: s.UnreadTotalSerializer}, tags=["conversations"], summary="Unread total (badge)")
    def get(self, request: AuthedRequest) -> Response:
        return Response(selectors.unread_total_for(request.user))


class ConversationParticipantsView(APIView):
    @extend_schema(responses={200: s.ParticipantPageSerializer}, tags=["conversations"])
    def get(self, request: AuthedRequest, conversation_id: str) -> Response:
        conversation, _ = selectors.conversation_access(request.user, conversation_id)
        rows = selectors.participants_of(conversation)
        return Response({"results": [events.participant_payload(p) for p in rows], "next": None})

    @extend_schema(
        request=s.ParticipantsAddSerializer, responses={200: s.ConversationSerializer}, tags=["conversations"]
    )
    def post(self, request: AuthedRequest, conversation_id: str) -> Response:
        membership = selectors.membership_get(request.user, conversation_id)
        data = s.validated(s.ParticipantsAddSerializer, request.data)
        services.participants_add(actor=request.user, conversation=membership.conversation, user_ids=data["user_ids"])
        return Response(_conversation_body(membership.conversation_id, membership))


class ConversationParticipantView(APIView):
    @extend_schema(responses={204: None}, tags=["conversations"])
    def delete(self, request: AuthedRequest, conversation_id: str, user_id: str) -> Response:
        membership = selectors.membership_get(request.user, conversation_id)
        services.participants_remove(actor=request.user, conversation=membership.conversation, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationLeaveView(APIView):
    @extend_schema(request=None, responses={204: None}, tags=["conversations"])
    def post(self, request: AuthedRequest, conversation_id: str) -> Response:
        membership = selectors.membership_get(request.user, conversation_id)
        services.conversation_leave(actor=request.user, conversation=membership.conversation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DirectConversationView(APIView):
    @extend_schema(
        responses={200: s.ConversationSerializer},
        tags=["conversations"],
        description="Your direct conversation with this user; 404 when there is none yet.",
    )
    def get(self, request: AuthedRequest, user_id: str) -> Response:
        conversation = selectors.direct_conversation_with(request.user, user_id)
        me = selectors.membership_get(request.user, conversation.id)
        return Response(_conversation_body(conversation.id, me))

    @extend_schema(
        request=None,
        responses={200: s.ConversationSerializer, 201: s.ConversationSerializer},
        tags=["conversations"],
        summary="Get or create the direct conversation with a user",
        description="Get or create your direct conversation with this user: 200 with the existing one, "
        "201 when it is new (only with someone you may contact; 404 otherwise).",
    )
    def post(self, request: AuthedRequest, user_id: str) -> Response:
        conversation, created = services.conversation_direct_get_or_create(actor=request.user, user_id=user_id)
        me = selectors.membership_get(request.user, conversation.id)
        return Response(
            _conversation_body(conversation.id, me), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class SuggestedContactsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str)], responses={200: UserSerializer(many=True)}, tags=["conversations"]
    )
    def get(self, request: AuthedRequest) -> Response:
        people = UserFilter(request.GET, queryset=selectors.contact_candidates_for(request.user))
        if not people.is_valid():
            raise ValidationError(people.errors)
        paginator = BaseCursor()
        paginator.ordering = "id"
        page = paginator.paginate_queryset(people.qs, request, view=self)
        return paginator.get_paginated_response(UserSerializer(page, many=True).data)


class ConversationExportView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv", "json"])],
        responses={(200, "text/csv"): str, (200, "application/json"): dict},
        tags=["conversations"],
    )
    def get(self, request: AuthedRequest, conversation_id: str) -> HttpResponseBase:
        query = s.validated(s.ExportQuerySerializer, request.query_params)
        conversation, me = selectors.conversation_access(request.user, conversation_id)
        services.monitoring_audit_record(
            actor=request.user,
            action=AuditAction.EXPORT,
            conversation=conversation,
            details={"format": query["format"]},
        )
        response = StreamingHttpResponse(
            exports.conversation_export(conversation, format=query["format"], reader=me),
            content_type=exports.FORMATS[query["format"]],
        )
        response["Content-Disposition"] = f'attachment; filename="conversation-{conversation.id}.{query["format"]}"'
        return response


class MessagesView(APIView):
    @extend_schema(
        request=s.MessageSendSerializer,
        responses={201: s.MessageSerializer, 200: s.MessageSerializer},
        tags=["messages"],
        description="Idempotent by `client_id`: a repeat returns the first message with 200.",
    )
    def post(self, request: AuthedRequest) -> Response:
        data = _send_body(request.data)
        # The service checks membership under the conversation's lock (404 otherwise): no read first.
        conversation = Conversation(pk=data.pop("conversation_id"))
        message, created = services.message_send(sender=request.user, conversation=conversation, **data)
        return Response(
            events.message_payload(message), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class MessageDetailView(APIView):
    @extend_schema(request=s.MessageEditSerializer, responses={200: s.MessageSerializer}, tags=["messages"])
    def put(self, request: AuthedRequest, message_id: str) -> Response:
        data = s.validated(s.MessageEditSerializer, request.data)
        message = selectors.message_get_for(request.user, message_id)
        message = services.message_edit(actor=request.user, message=message, content=data["content"])
        return Response(events.message_payload(message))

    patch = put

    @extend_schema(responses={204: None}, tags=["messages"])
    def delete(self, request: AuthedRequest, message_id: str) -> Response:
        message = selectors.message_get_for(request.user, message_id)
        services.message_delete(actor=request.user, message=message)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageReadView(APIView):
    @extend_schema(request=None, responses={200: s.ReadStateSerializer}, tags=["messages"])
    def patch(self, request: AuthedRequest, message_id: str) -> Response:
        message = selectors.message_get_for(request.user, message_id)
        seq = services.message_mark_read(user=request.user, message=message)  # monitors: 404, no receipts
        return Response({"conversation_id": message.conversation_id, "seq": seq})

    post = patch


class MessageSearchView(APIView):
    @extend_schema(parameters=[s.SearchQuerySerializer], responses={200: s.SearchPageSerializer}, tags=["messages"])
    def get(self, request: AuthedRequest) -> Response:
        query = s.validated(s.SearchQuerySerializer, request.query_params)
        offset, limit = query.pop("offset"), query.pop("limit")
        hits, more = search.message_search(request.user, offset=offset, limit=limit, **query)
        results = [events.search_hit_payload(message) for message in hits]
        next_url = None
        if more:
            params = request.query_params.copy()
            params["offset"] = offset + limit
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response({"results": results, "next": next_url})


class MessageUploadView(APIView):
    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "conversation_id": {"type": "integer"},
                    "content": {"type": "string"},
                    "client_id": {"type": "string"},
                    "files": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "minItems": 1,
                        "maxItems": 10,
                    },
                },
                "required": ["conversation_id", "files"],
            }
        },
        responses={201: s.MessageSerializer, 200: s.MessageSerializer},
        tags=["messages"],
        description="1 to MAX_FILES_PER_MESSAGE files, each at most MAX_FILE_SIZE; types are read from the bytes.",
    )
    def post(self, request: AuthedRequest) -> Response:
        limit_uploads(request)
        data = s.validated(s.UploadSerializer, request.data)
        files = request.FILES.getlist("files")
        if not files:
            raise ValidationFailed("Attach 1 to 10 files as `files`.", code=MessagingErrorCode.NO_FILES)
        conversation = selectors.conversation_get_for(request.user, data["conversation_id"])
        message, created = services.message_send_with_files(
            sender=request.user,
            conversation=conversation,
            files=files,
            content=data["content"],
            client_id=data["client_id"],
        )
        return Response(
            events.message_payload(message), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class AttachmentDownloadView(APIView):
    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file, as an attachment"),
            302: OpenApiResponse(description="A short-lived signed URL (S3)"),
        },
        tags=["messages"],
    )
    def get(self, request: AuthedRequest, attachment_id: str) -> HttpResponseBase:
        attachment = selectors.attachment_get_for(request.user, attachment_id)
        return file_response(
            request, key=attachment.file_key, download_name=attachment.file_name, mime_type=attachment.mime_type
        )
