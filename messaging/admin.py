"""Messaging in the staff console: the inbox (each staff member's own conversations, answered live),
and read-mostly message records scoped to what the user may monitor."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse

from accounts.models import Role
from accounts.requests import signed_in_user
from accounts.scoped_admin import ReadOnlyScopedAdmin, ScopedAdmin
from core.errors import ApplicationError, CoreErrorCode, ValidationFailed
from messaging import selectors, services
from messaging.admin_views import inbox
from messaging.models import CannedReply, Conversation, Message, MonitoringAudit, Participant

if TYPE_CHECKING:  # (generic for the type checker only)
    _ParticipantInline = admin.TabularInline[Participant, Conversation]
else:
    _ParticipantInline = admin.TabularInline


class ParticipantInline(_ParticipantInline):
    model = Participant
    fields = ["user", "role", "joined_at", "last_read_seq", "last_delivered_seq"]
    readonly_fields = ["user", "role", "joined_at", "last_read_seq", "last_delivered_seq"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Conversation | None = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyScopedAdmin):
    """`/admin/messaging/conversation/` is the inbox; `<id>/change/` opens one conversation in it."""

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return selectors.member_conversations(signed_in_user(request))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return inbox(request)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return inbox(request, object_id)


@admin.register(Message)
class MessageAdmin(ReadOnlyScopedAdmin):
    list_display = ["conversation_name", "seq", "sender", "type", "preview", "created_at", "deleted_at"]
    list_filter = ["type", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["content", "sender__email", "sender__first_name", "sender__last_name"]
    list_select_related = ["sender", "conversation"]
    actions = ["delete_messages"]
    view_roles = selectors.MONITOR_ROLES
    exclude = ["search_vector"]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return Message.objects.filter(conversation__in=selectors.monitorable_conversations(signed_in_user(request)))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        people = Prefetch("conversation__participants", queryset=Participant.objects.select_related("user"))
        return super().get_queryset(request).prefetch_related(people)

    @admin.display(description="conversation")
    def conversation_name(self, message: Message) -> str:
        """Its title, or its people by name (never "Direct conversation 12")."""
        conversation = message.conversation
        return conversation.title or ", ".join(p.user.full_name for p in conversation.participants.all())

    @admin.display(description="content")
    def preview(self, message: Message) -> str:
        return "(deleted)" if message.deleted_at else message.content[:80]

    @admin.action(description="Delete selected messages (soft delete, kept for audit)")
    def delete_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        for message in queryset:
            try:
                services.message_delete(actor=signed_in_user(request), message=message)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.WARNING)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Moderation is the one write staff make here, through the same service as the API.
        actions = super().get_actions(request)
        action = self.get_action("delete_messages") if "delete_messages" not in actions else None
        if action is not None:
            func, name, desc = action
            actions[name] = (func, name, desc)
        return actions


@admin.register(MonitoringAudit)
class MonitoringAuditAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "actor", "action", "conversation", "office"]
    list_filter = ["action"]
    list_select_related = ["actor", "conversation", "office"]
    view_roles = selectors.MONITOR_ALL_ROLES

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[MonitoringAudit]:
        return selectors.monitoring_audit_for(signed_in_user(request))


@admin.register(CannedReply)
class CannedReplyAdmin(ScopedAdmin):
    """The office's canned replies (`/shortcut` in the inbox), kept by its managers through the services."""

    list_display = ["shortcut", "content", "office", "updated_at"]
    list_filter = ["office"]
    search_fields = ["shortcut", "content"]
    list_select_related = ["office"]
    fields = ["shortcut", "content", "office"]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[CannedReply]:
        return selectors.canned_replies_for(signed_in_user(request))

    def get_fields(self, request: HttpRequest, obj: CannedReply | None = None) -> Any:
        # A super admin picks the office; a manager writes for their own.
        return (
            ["shortcut", "content", "office"]
            if signed_in_user(request).role == Role.SUPER_ADMIN
            else ["shortcut", "content"]
        )

    def _may_write(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or services.canned_reply_may_write(signed_in_user(request), obj.office)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_change_permission(request, obj)  # type: ignore[no-untyped-call]  # (ScopedAdmin is untyped)
        return allowed and self._may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_delete_permission(request, obj)  # type: ignore[no-untyped-call]  # (as above)
        return allowed and self._may_write(request, obj)

    def save_model(self, request: HttpRequest, obj: CannedReply, form: Any, change: bool) -> None:
        user = signed_in_user(request)
        data = form.cleaned_data
        if change:
            saved = services.canned_reply_update(
                actor=user,
                reply=CannedReply.objects.select_related("office").get(pk=obj.pk),
                shortcut=data["shortcut"],
                content=data["content"],
            )
        else:
            office = data.get("office") or user.office
            if office is None:
                raise ValidationFailed("Choose the office.", code=CoreErrorCode.VALIDATION_ERROR)
            saved = services.canned_reply_create(
                actor=user, office=office, shortcut=data["shortcut"], content=data["content"]
            )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: CannedReply) -> None:
        services.canned_reply_delete(actor=signed_in_user(request), reply=obj)
