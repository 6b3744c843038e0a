"""A request of a signed-in user, for annotations: Django's and DRF's types let `request.user` be
anonymous too. Views behind `IsAuthenticated` (the API's default) and the console's staff pages
take these."""

from typing import cast

from django.http import HttpRequest
from rest_framework.request import Request

from accounts.models import User


class AuthedRequest(Request):
    user: User


class AuthedHttpRequest(HttpRequest):
    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The user of a request that authentication let through: where an override must take Django's
    HttpRequest (the admin's hooks), the console's pages read their staff user with this."""
    return cast(User, request.user)
