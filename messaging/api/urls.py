from django.urls import re_path

from messaging.api import canned, monitoring, sync, views

# Ids are digits: a named path a client mistypes (`PATCH messages/unread-count`) is a 404, never
# an id route that complains about the body first.
C = r"^conversations/(?P<conversation_id>[0-9]+)"
M = r"^messages/(?P<message_id>[0-9]+)"

urlpatterns = [
    # the history page first: the busiest route (no other pattern here ends in /messages)
    re_path(C + r"/messages/?$", views.ConversationMessagesView.as_view(), name="conversation-messages"),
    re_path(r"^conversations/?$", views.ConversationsView.as_view(), name="conversations"),
    re_path(r"^conversations/suggested-contacts/?$", views.SuggestedContactsView.as_view(), name="suggested-contacts"),
    re_path(r"^conversations/read-all/?$", views.ConversationsReadAllView.as_view(), name="conversations-read-all"),
    re_path(r"^conversations/unread-count/?$", views.UnreadTotalView.as_view(), name="conversations-unread-count"),
    re_path(
        r"^conversations/direct/(?P<user_id>[0-9]+)/?$",
        views.DirectConversationView.as_view(),
        name="conversation-direct",
    ),
    re_path(r"^conversations/monitoring/all/?$", monitoring.MonitoringAllView.as_view(), name="monitoring-all"),
    re_path(r"^conversations/monitoring/audit/?$", monitoring.MonitoringAuditView.as_view(), name="monitoring-audit"),
    re_path(
        r"^conversations/monitoring/office/(?P<office_id>[0-9]+)/?$",
        monitoring.MonitoringOfficeView.as_view(),
        name="monitoring-office",
    ),
    re_path(C + r"/?$", views.ConversationDetailView.as_view(), name="conversation-detail"),
    re_path(C + r"/read/?$", views.ConversationReadView.as_view(), name="conversation-read"),
    re_path(C + r"/clear/?$", views.ConversationClearView.as_view(), name="conversation-clear"),
    re_path(C + r"/leave/?$", views.ConversationLeaveView.as_view(), name="conversation-leave"),
    re_path(C + r"/export/?$", views.ConversationExportView.as_view(), name="conversation-export"),
    re_path(C + r"/participants/?$", views.ConversationParticipantsView.as_view(), name="conversation-participants"),
    re_path(
        C + r"/participants/(?P<user_id>[0-9]+)/?$",
        views.ConversationParticipantView.as_view(),
        name="conversation-participant",
    ),
    re_path(r"^canned-replies/?$", canned.CannedRepliesView.as_view(), name="canned-replies"),
    re_path(r"^canned-replies/(?P<reply_id>[0-9]+)/?$", canned.CannedReplyDetailView.as_view(), name="canned-reply"),
    re_path(r"^sync/?$", sync.SyncView.as_view(), name="sync"),
    re_path(r"^messages/?$", views.MessagesView.as_view(), name="messages"),
    re_path(r"^messages/upload/?$", views.MessageUploadView.as_view(), name="message-upload"),
    re_path(r"^messages/search/?$", views.MessageSearchView.as_view(), name="message-search"),
    re_path(M + r"/read/?$", views.MessageReadView.as_view(), name="message-read"),
    re_path(M + r"/?$", views.MessageDetailView.as_view(), name="message-detail"),
    re_path(
        r"^attachments/(?P<attachment_id>[0-9]+)/download/?$",
        views.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
]
