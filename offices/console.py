"""The office a console page shows, written once for every page that has an office switcher."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone

from accounts.models import Role, User
from core.errors import NotFound
from offices.models import Office
from offices.selectors import office_get_for, office_list_for


@dataclass(frozen=True)
class OfficeInView:
    user: User
    office: Office | None  # None: every office (a super admin who chose none)

    @property
    def narrowed_id(self) -> int | None:
        """The office a super admin's selectors are narrowed to on this page. Anyone else's selectors
        hold their own office already (a manager's also the leads no office has yet): None."""
        return self.office.pk if self.office is not None and self.user.role == Role.SUPER_ADMIN else None

    def switcher(self) -> list[Office] | None:
        """The offices a super admin switches between; None for everyone else (no switcher)."""
        return list(office_list_for(self.user)) if self.user.role == Role.SUPER_ADMIN else None


# The office a super admin last chose (an id, or "" for every office), kept in their session.
CHOSEN_OFFICE_KEY = "console_office"


def office_in_view(request, *, everyone: bool = True) -> OfficeInView:
    """A super admin picks the office with `?office=` (empty: every office, or the first one when the
    page needs one, `everyone=False`), and the choice stays for the console's other pages until they
    choose again (a page without `?office=` shows the last one chosen); anyone else sees their own.
    An office outside the user's selector is a 404, like any hidden object."""
    user = request.user
    raw = request.GET.get("office") or None
    if user.role == Role.SUPER_ADMIN:
        if "office" in request.GET:
            request.session[CHOSEN_OFFICE_KEY] = raw or ""
        else:
            raw = request.session.get(CHOSEN_OFFICE_KEY) or None
            remembered = office_list_for(user).filter(pk=raw).first() if raw and str(raw).isdigit() else None
            if raw is not None and remembered is None:  # closed or deleted since: forget it
                request.session.pop(CHOSEN_OFFICE_KEY, None)
            if remembered is not None:
                return OfficeInView(user, remembered)
            raw = None
    if raw is None and user.role == Role.SUPER_ADMIN:
        return OfficeInView(user, None if everyone else office_list_for(user).first())
    try:
        return OfficeInView(user, office_get_for(user, raw if raw is not None else user.office_id))
    except NotFound:
        raise Http404("Office not found.") from None


def console_office_in_view(request, office: Office | None) -> None:
    """This console page shows `office`: its time zone and locale for every time the page writes, the
    server's rows and the page's scripts alike (console.middleware sets the staff member's own first)."""
    request.console_office = office
    if office is not None:
        timezone.activate(office.timezone)
    else:
        timezone.deactivate()
