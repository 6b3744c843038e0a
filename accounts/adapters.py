"""django-allauth hooks: a first social sign-in is a student signup through the API's own service."""

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.db import transaction

from accounts import services


class SocialAccountAdapter(DefaultSocialAccountAdapter):
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
