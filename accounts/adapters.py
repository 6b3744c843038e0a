"""django-allauth hooks: a first social sign-in is a student signup through the API's own service."""

from urllib.parse import urlencode

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.db import transaction
from django.http import HttpResponseRedirect

from accounts import services


def provider_not_configured_redirect() -> HttpResponseRedirect:
    """Where a browser goes when it asks for a provider this server has no app for: the web client's
    callback, with the error in the shape every social sign-in failure has there."""
    query = urlencode({"error": "provider_not_configured"})
    return HttpResponseRedirect(f"{settings.FRONTEND_URL.rstrip('/')}/auth/callback?{query}")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_app(self, request, provider, client_id=None):
        """allauth's pages of an unconfigured provider (sign-in, callback, Facebook's token login)
        asked for its app and raised SocialApp.DoesNotExist: a 500. They answer as the API does,
        in a browser's words (allauth's middleware sends ImmediateHttpResponse's response)."""
        if request is not None and not self.list_apps(request, provider=provider, client_id=client_id):
            raise ImmediateHttpResponse(provider_not_configured_redirect())
        return super().get_app(request, provider, client_id=client_id)

    def save_user(self, request, sociallogin, form=None):
        """The new user is made by `student_signup`, as `POST auth/signup` makes one (a student, and a
        website lead for them), then allauth links the provider account and email to it."""
        suggested = sociallogin.user
        if form is not None:  # allauth's social signup form (e.g. the provider gave no email)
            get_account_adapter(request).save_user(request, suggested, form, commit=False)
        with transaction.atomic():
            sociallogin.user = services.student_signup(
                email=suggested.email,
                password=None,
                first_name=suggested.first_name or "",
                last_name=suggested.last_name or "",
            )
            sociallogin.save(request)
        return sociallogin.user
