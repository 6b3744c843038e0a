"""Third-party models staff never use (roles replace groups, one site, social sign-in and tokens are
configured in settings) leave the console, so its home lists only the CRM. The apps' own admins are
each app's `admin.py`, on `accounts.scoped_admin.ScopedAdmin`."""

from django.apps import apps
from django.contrib import admin

_NOT_IN_CONSOLE = [
    ("auth", "Group"),
    ("sites", "Site"),
    ("account", "EmailAddress"),
    ("socialaccount", "SocialApp"),
    ("socialaccount", "SocialAccount"),
    ("socialaccount", "SocialToken"),
    ("token_blacklist", "OutstandingToken"),
    ("token_blacklist", "BlacklistedToken"),
]
for _app_label, _model_name in _NOT_IN_CONSOLE:
    try:
        _model = apps.get_model(_app_label, _model_name)
    except LookupError:
        continue
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
