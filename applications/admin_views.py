"""The application workspace in the console: the board by status for an office (filters: intake,
destination, consultant), an application's page (details, history, the checklist linking each document
to its review), and the moves each user may make, through `applications.services`."""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import consultants_for
from applications import selectors, services
from applications.checklists import Checklist, checklists_for
from applications.models import Application
from applications.transitions import FINAL, NEEDS_REASON, PATH, ApplicationStatus
from catalogue.selectors import course_get_for, course_list_for, course_ordering, courses_eligible
from core.errors import ApplicationError, NotFound, ValidationFailed
from offices.console import office_in_view
from students.selectors import applicant_of, profile_of, student_get_for, student_list_for
from study.vocabulary import format_intake, parse_intake

S = ApplicationStatus
CLOSED = [S.REJECTED, S.VISA_REFUSED, S.WITHDRAWN]


def application_tools(user: User, application: Any, checklist: Checklist) -> None:  # (a card, with extras)
    """What this user may do on this card or page: the moves the services allow, with what each asks."""
    moves = services.application_allowed_moves(user, application)
    application.moves = [
        {
            "to": to,
            "label": S(to).label,
            "reason": to in NEEDS_REASON,
            "conditions": to == S.CONDITIONAL_OFFER,
            "override": to == S.SUBMITTED and not checklist.complete and user.role in services.CHECKLIST_OVERRIDERS,
            "blocked": to == S.SUBMITTED and not checklist.complete and user.role not in services.CHECKLIST_OVERRIDERS,
        }
        for to in moves
    ]
    application.checklist = checklist
    application.intake_label = format_intake(application.intake)
    # (one reverse() per page, not per card and form: the board renders up to 156 cards)
    application.act_url = _url("admin:applications_application_act", application.pk)
    application.change_url = _url("admin:applications_application_change", application.pk)


@lru_cache(maxsize=8)
def _url_pattern(name: str) -> str:
    return reverse(name, args=[0])


def _url(name: str, pk: int) -> str:
    return _url_pattern(name).replace("/0/", f"/{pk}/", 1)


ACT_URL_MARK = "/__act_url__/"


class MovesFragments:
    """The board's move buttons, rendered once per kind of card (`_moves.html`), not once per card: cards with
    the same status, moves and checklist state share their markup but for the form's URL. Rendering one
    form per move per card was most of the board's template time (up to 156 cards, 1-3 forms each)."""

    def __init__(self, request):
        self.request, self.rendered = request, {}
        self.next = request.get_full_path()

    def of(self, application) -> SafeString:
        # A move's every key follows from its target, the checklist's completeness and the user (one per
        # page): those, and the progress a blocked submit shows, key the markup.
        moves = application.moves
        blocked = any(move["blocked"] for move in moves)
        key = (
            application.status,
            tuple(move["to"] for move in moves),
            application.checklist.complete,
            application.checklist.progress if blocked else None,
        )
        if key not in self.rendered:
            shape = SimpleNamespace(
                moves=application.moves,
                status=application.status,
                checklist=application.checklist,
                act_url=ACT_URL_MARK,
            )
            self.rendered[key] = render_to_string(
                "admin/applications/_moves.html", {"application": shape, "next": self.next}, self.request
            )
        return mark_safe(self.rendered[key].replace(ACT_URL_MARK, application.act_url))


# A board card's markup, filled in Python: through the template engine the 156 cards' dozen variables each
# were ~8 ms of a request's CPU (its loop now prints `card_html`). format_html escapes as the template did.
CARD_HTML = (
    '<li class="lead-card" id="application-{}">\n'
    '        <div class="who"><a href="{}">{}</a></div>\n'
    '        <div class="meta">{} · {} ({})<br>\n'
    "          {} · {} · checklist {}%</div>\n"
    "        {}\n"
    "      </li>"
)


def card_html(application) -> SafeString:
    a = application
    return format_html(
        CARD_HTML,
        a.pk,
        a.change_url,
        a.student_name,
        a.course_name,
        a.university_name,
        a.destination_code,
        a.intake_label,
        a.consultant_name,
        a.checklist.progress,
        a.moves_html,
    )


def _filters(request, view) -> tuple[dict, dict]:
    raw = {k: request.GET.get(k) or "" for k in ("intake", "country", "consultant")}
    asked: dict[str, Any] = {}
    try:
        if raw["intake"]:
            asked["intake"] = parse_intake(raw["intake"])
    except ValidationFailed:
        raw["intake"] = ""
    if len(raw["country"]) == 2 and raw["country"].isalpha():
        asked["destination"] = raw["country"].upper()
    if raw["consultant"].isdigit():
        asked["consultant_id"] = int(raw["consultant"])
    if view.narrowed_id is not None:
        asked["office_id"] = view.narrowed_id
    return raw, asked


def board(request):
    """Applications by status, the longest untouched first in each column."""
    user = request.user
    view = office_in_view(request)
    scoped = selectors.application_list_for(user)
    raw, asked = _filters(request, view)
    office_only = selectors.applications_filtered(
        scoped, selectors.ApplicationFilters(office_id=asked.get("office_id"))
    )
    applications = selectors.applications_filtered(scoped, selectors.ApplicationFilters(**asked))
    counts = selectors.board_counts(applications)
    cards = selectors.board(applications)
    shown = [a for column in cards.values() for a in column]
    checklists = checklists_for(shown)
    moves_html = MovesFragments(request)
    for application in shown:
        application_tools(user, application, checklists[application.pk])
        application.moves_html = moves_html.of(application)
        application.card_html = card_html(application)
    opener = _opener(request, user, view)
    columns = [
        {"status": s, "label": S(s).label, "count": counts[s], "cards": cards[s], "closed": s in FINAL}
        for s in [*PATH, *CLOSED]
    ]
    return render(
        request,
        "admin/applications/board.html",
        {
            **admin.site.each_context(request),
            "title": "Application board",
            "columns": columns,
            "total": sum(counts.values()),
            "office": view.office,
            "offices": view.switcher(),
            "filters": raw,
            "intakes": [format_intake(i) for i in selectors.intakes_of(office_only)],
            "countries": selectors.destinations_of(office_only),
            "consultants": list(consultants_for(user, office_id=view.narrowed_id)),
            "opts": Application._meta,
            "opener": opener,
        },
    )


OPENER_COURSES = 50


def _opener(request, user: User, view) -> dict | None:
    """The "open an application" form, in two steps: pick a student (`?open_for=`), then one of the 50
    courses they are eligible for, best fit first (the catalogue's `eligible_for`): never the whole
    catalogue in a select."""
    if user.role not in services.APPLICATION_HANDLERS:
        return None
    students = student_list_for(user).filter(office__isnull=False)
    if view.office is not None:
        students = students.filter(office_id=view.office.pk)
    # The student by name or email (an office has thousands: no select of them all), then their courses.
    asked = (request.GET.get("open_q") or "").strip()[:100]
    found = (
        list(
            students.filter(
                Q(first_name__icontains=asked) | Q(last_name__icontains=asked) | Q(email__icontains=asked)
            ).order_by("first_name", "last_name", "id")[:20]
        )
        if asked
        else []
    )
    chosen, courses = None, []
    raw = request.GET.get("open_for") or ""
    if raw.isdigit():
        try:
            chosen = student_get_for(user, raw)
        except NotFound:
            chosen = None
    if chosen is not None:
        applicant = applicant_of(profile_of(chosen), today=timezone.localdate())
        eligible = courses_eligible(course_list_for(user).filter(is_active=True), applicant)
        courses = list(eligible.order_by(*course_ordering(eligible=True, searched=False))[:OPENER_COURSES])
    return {"asked": asked, "students": found, "chosen": chosen, "courses": courses}


@require_POST
def open_application(request):
    """Opens a draft through `applications.services.application_create`, as `POST applications` does."""
    user = request.user
    post = request.POST
    try:
        student = student_get_for(user, post.get("student"))
        course = course_get_for(user, post.get("course"))
        application = services.application_create(
            actor=user, student=student, course=course, intake=parse_intake(post.get("intake", "")),
            note=post.get("note", ""),
        )  # fmt: skip
    except NotFound as exc:
        messages.error(request, exc.message)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Application opened for {student.full_name}: {course.name}.")
        return HttpResponseRedirect(reverse("admin:applications_application_change", args=[application.pk]))
    return HttpResponseRedirect(reverse("admin:applications_application_board"))


def workspace_context(request, application: Application) -> dict:
    """The application page: its moves, its checklist (each document linked to its review), its history."""
    checklist = checklists_for([application])[application.pk]
    application_tools(request.user, application, checklist)
    return {
        "workspace": {"application": application, "checklist": checklist, "history": application.status_history.all()}
    }


def _back(request, application_id: int) -> HttpResponseRedirect:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:applications_application_change", args=[application_id])
    return HttpResponseRedirect(target)


@require_POST
def act(request, application_id: int):
    """One move of one application, by the service; a refusal is shown on the page the user came from."""
    user = request.user
    try:
        application = selectors.application_get_for(user, application_id)
    except NotFound:
        raise Http404("Application not found.") from None
    post = request.POST
    data: dict = {
        "to": post.get("to", ""),
        "note": post.get("note", ""),
        "from_status": post.get("from_status") or None,
        "override_checklist": post.get("override_checklist") == "1",
    }
    if post.get("conditions"):
        data["offer"] = {"conditions": post["conditions"]}
    name = application.student.full_name
    try:
        application = services.application_transition(actor=user, application=application, data=data)
    except NotFound:
        raise Http404("Application not found.") from None
    except ApplicationError as exc:
        messages.error(request, f"{name}: {exc.message}")
    else:
        messages.success(request, f"{name}'s application moved to {application.get_status_display()}.")
    return _back(request, application.pk)
