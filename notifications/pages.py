"""The one-click unsubscribe of emails (RFC 8058): a page for people, outside the API.

GET shows what the link will stop and a button (mail scanners open links: a GET changes nothing);
POST, from that button or from the mail client's own one-click (`List-Unsubscribe=One-Click`), turns
that kind's email off in the user's preferences. The link is signed, so it names its user and kind."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.errors import NotFound
from notifications import services
from notifications.delivery import unsubscribe_read


@csrf_exempt  # the signed token is the credential; mail clients post without a session or CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            _user, category = services.unsubscribe(token=token)
        except NotFound:
            return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
        return render(request, "notifications/unsubscribe.html", {"done": True, "category": category})
    found = unsubscribe_read(token)
    if found is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    return render(request, "notifications/unsubscribe.html", {"category": found[1]})
