"""Tripwires on what devices.providers reads or sets in libraries we do not own (as core/tests/test_handlers.py
does for Django): if an upgrade moves one of these names, this fails and says which file to read again."""

import inspect

from aioapns import connection as apns_connection
from firebase_admin import messaging
from push_notifications import apns_async, gcm

from devices import providers


def test_firebase_admin_builds_its_url_from_the_class_attribute():
    """FCM_ENDPOINT replaces `_MessagingService.FCM_URL` (firebase_admin/messaging.py)."""
    assert hasattr(messaging._MessagingService, "FCM_URL")
    assert "_MessagingService.FCM_URL.format(" in inspect.getsource(messaging._MessagingService.__init__)
    assert providers.DOCUMENTED_FCM_URL == "https://fcm.googleapis.com/v1/projects/{0}/messages:send"


def test_aioapns_connects_to_the_protocol_class_attributes():
    """APNS_ENDPOINT replaces `APNS_SERVER` / `APNS_PORT` of aioapns' two protocol classes (aioapns/connection.py)."""
    source = inspect.getsource(apns_connection)
    assert source.count("self.protocol_class.APNS_SERVER") >= 2 and "self.protocol_class.APNS_PORT" in source
    for protocol in (apns_connection.APNsProductionClientProtocol, apns_connection.APNsDevelopmentClientProtocol):
        assert hasattr(protocol, "APNS_SERVER") and hasattr(protocol, "APNS_PORT")


def test_django_push_notifications_senders_keep_their_signatures():
    """devices.providers calls these with keywords (push_notifications/gcm.py, apns_async.py)."""
    assert list(inspect.signature(gcm.send_message).parameters)[:2] == ["registration_ids", "message"]
    parameters = inspect.signature(apns_async.apns_send_message).parameters
    assert {"creds", "badge", "extra", "collapse_id", "thread_id", "err_func"} <= set(parameters)
