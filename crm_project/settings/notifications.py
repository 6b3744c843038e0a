"""Reaching people who are offline: push and email (docs/notifications.md), part of `base.py`."""

from crm_project.settings.environment import env, env_bool, env_int, env_list

# Seconds a new message waits for its recipient's socket before it is pushed (one push per burst).
PUSH_GRACE_SECONDS = env_int("PUSH_GRACE_SECONDS", 5)
# Minutes a message stays unread, its recipient without a socket, before the missed-message email.
MISSED_MESSAGE_EMAIL_MINUTES = env_int("MISSED_MESSAGE_EMAIL_MINUTES", 15)
# Web Push is posted only to endpoints under these URL prefixes (comma separated): the push services of
# Chrome/Edge (FCM), Firefox, Safari and Windows. A host name must resolve to public addresses only when
# the push is sent; an IP address written here is allowed as written.
WEBPUSH_ALLOWED_ENDPOINTS = env_list(
    "WEBPUSH_ALLOWED_ENDPOINTS",
    "https://fcm.googleapis.com/,https://updates.push.services.mozilla.com/,https://web.push.apple.com/,"
    "https://wns2-par02p.notify.windows.com/,https://wns2-db5p.notify.windows.com/",
)
# VAPID keys of Web Push (generate with `manage.py vapid_keys`): the private key as PEM or base64url
# DER, the public key (base64url, uncompressed point) served to browsers at GET devices/webpush-key.
WEBPUSH_VAPID_PRIVATE_KEY = env("WEBPUSH_VAPID_PRIVATE_KEY")
WEBPUSH_VAPID_PUBLIC_KEY = env("WEBPUSH_VAPID_PUBLIC_KEY")
# The contact push services may write to about our pushes (VAPID "sub").
WEBPUSH_VAPID_SUBJECT = env("WEBPUSH_VAPID_SUBJECT", "mailto:ops@localhost")
# Firebase Cloud Messaging (HTTP v1), for the Android and iOS apps: the service account's JSON file.
FCM_CREDENTIALS_FILE = env("FCM_CREDENTIALS_FILE")
# Apple Push Notification service, token authentication: the .p8 key file, its key id, the team id,
# the app's bundle id (the topic), and whether the apps are development builds (the sandbox).
APNS_AUTH_KEY_FILE = env("APNS_AUTH_KEY_FILE")
APNS_KEY_ID = env("APNS_KEY_ID")
APNS_TEAM_ID = env("APNS_TEAM_ID")
APNS_TOPIC = env("APNS_TOPIC")
APNS_USE_SANDBOX = env_bool("APNS_USE_SANDBOX", False)
# Where the providers are reached; empty = their documented addresses. For an egress proxy, or a
# stand-in provider in tests: FCM as a URL with {project} (https://.../v1/projects/{project}/messages:send),
# APNs as host:port.
FCM_ENDPOINT = env("FCM_ENDPOINT")
APNS_ENDPOINT = env("APNS_ENDPOINT")
# Pushes one job keeps in flight at once (threads): a push mostly waits for the provider's answer.
PUSH_SEND_THREADS = env_int("PUSH_SEND_THREADS", 8)
# Seconds a push provider may take to answer before the send is retried later.
PUSH_TIMEOUT_SECONDS = env_int("PUSH_TIMEOUT_SECONDS", 10)
# This server's public address, for links in emails that come back to it (one-click unsubscribe).
SITE_URL = env("SITE_URL", "http://localhost:8000")
# Signature of emails sent to people without an office (students before they have one, super admins).
PRODUCT_NAME = env("PRODUCT_NAME", "Consultancy CRM")
# Days the record of sent pushes and emails (what makes a retry never send twice) is kept.
DELIVERY_LEDGER_DAYS = env_int("DELIVERY_LEDGER_DAYS", 14)
# django-push-notifications' own settings, from the ones above (its device tables stay empty: devices.Device).
PUSH_NOTIFICATIONS_SETTINGS = {
    "FCM_MAX_RECIPIENTS": 500,
    "APNS_TOPIC": APNS_TOPIC,
    "APNS_USE_SANDBOX": APNS_USE_SANDBOX,
    "UNIQUE_REG_ID": False,
    "USER_MODEL": "accounts.User",
}
