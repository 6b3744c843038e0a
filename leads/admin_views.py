"""The lead workspace in the console: the board by pipeline stage, and the actions of a lead's page
and board card (assign, change status, convert, escalate, note), each through `leads.services`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import consultants_for
from core.errors import ApplicationError, NotFound, ValidationFailed
from leads import escalation, rules, selectors, services
from leads.errors import LeadErrorCode
from leads.models import OPEN_STATUSES, Lead, LeadStatus
from offices.console import office_in_view


def lead_tools(user: User, lead, consultants: list[User]) -> None:
    """What this user may do to this lead on its card or page, from the services' own rules."""
    may_change = rules.lead_may_change(user, lead)
    lead.next_statuses = [(s, LeadStatus(s).label) for s in services.lead_next_statuses(lead)] if may_change else []
    lead.may_convert = may_change and lead.status in OPEN_STATUSES
    lead.may_escalate = may_change and lead.linked_student is not None
    lead.consultant_choices = (
        [c for c in consultants if lead.office_id is None or c.office_id == lead.office_id]
        if rules.lead_may_assign(user, lead) and lead.status in OPEN_STATUSES
        else []
    )


def board(request):
    """Open leads by stage (the longest waiting first), then the latest converted and lost."""
    user = request.user
    view = office_in_view(request)
    leads = selectors.lead_list_for(user)
    if view.narrowed_id is not None:
        leads = leads.filter(office_id=view.narrowed_id)
    counts = selectors.lead_pipeline_counts(leads)
    cards = selectors.lead_board(leads)
    assigns = user.role in rules.LEAD_ASSIGNERS
    consultants = list(consultants_for(user, office_id=view.narrowed_id)) if assigns else []
    columns = []
    for status, label in LeadStatus.choices:
        for lead in cards[status]:
            lead_tools(user, lead, consultants)
        columns.append({"status": status, "label": label, "count": counts[status], "leads": cards[status]})
    return render(
        request,
        "admin/leads/board.html",
        {
            **admin.site.each_context(request),
            "title": "Lead board",
            "columns": columns,
            "office": view.office,
            "offices": view.switcher(),
            "unassigned": counts["unassigned"],
            "opts": Lead._meta,
            "may_add": user.role in rules.LEAD_CREATORS,
        },
    )


def workspace_context(request, lead) -> dict:
    """The lead page's actions and timeline."""
    user = request.user
    consultants = list(consultants_for(user, office_id=lead.office_id)) if user.role in rules.LEAD_ASSIGNERS else []
    lead_tools(user, lead, consultants)
    return {"workspace": {"lead": lead, "timeline": list(selectors.activity_list(lead))}}


def _back(request, lead_id: int) -> HttpResponseRedirect:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:leads_lead_change", args=[lead_id])
    return HttpResponseRedirect(target)


@require_POST
def act(request, lead_id: int):
    """One action on one lead, by a service; a refusal is shown on the page the user came from."""
    user = request.user
    try:
        lead = selectors.lead_get_for(user, lead_id)
    except NotFound:
        raise Http404("Lead not found.") from None
    # The field is `act`, not `action`: a form control named `action` hides the form's own `action`
    # property from scripts (the board's drag read the input instead of the URL and posted to a 404).
    action = request.POST.get("act")
    try:
        if action == "assign":
            consultant_id = _int(request.POST.get("consultant"))
            consultant = consultants_for(user).filter(pk=consultant_id).first() if consultant_id is not None else None
            if consultant is None:
                raise ValidationFailed("Choose a consultant.", code=LeadErrorCode.NOT_A_CONSULTANT)
            lead = services.lead_assign(actor=user, lead=lead, consultant=consultant)
            done = f"{lead.full_name} is now {consultant.full_name}'s lead."
        elif action == "status":
            status = request.POST.get("status", "")
            lead = services.lead_change_status(
                actor=user, lead=lead, status=status, lost_reason=request.POST.get("reason", "")
            )
            done = f"{lead.full_name} moved to {lead.get_status_display()}."
        elif action == "convert":
            lead = services.lead_convert(actor=user, lead=lead)
            done = f"{lead.full_name} is now a student."
        elif action == "escalate":
            conversation = escalation.lead_escalate(actor=user, lead=lead, note=request.POST.get("note", ""))
            done = f"{lead.full_name} escalated: the manager's conversation with them is open (#{conversation.pk})."
        elif action == "note":
            services.lead_add_note(actor=user, lead=lead, text=request.POST.get("text", ""))
            done = "Note added to the timeline."
        else:
            raise ValidationFailed("Unknown action.", code=LeadErrorCode.UNKNOWN_ACTION)
    except NotFound:
        raise Http404("Lead not found.") from None
    except ApplicationError as exc:
        messages.error(request, f"{lead.full_name}: {exc.message}")
    else:
        messages.success(request, done)
    return _back(request, lead.pk)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
