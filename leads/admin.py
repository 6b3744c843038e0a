import csv

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import Role, User
from core.admin import ReadOnlyScopedAdmin, ScopedAdmin
from core.errors import ApplicationError
from leads import selectors, services
from leads.models import Activity, Lead
from leads.exports import EXPORT_COLUMNS, lead_export_row


class ActivityInline(admin.TabularInline):
    model = Activity
    fields = ["created_at", "kind", "text", "actor"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class AssignForm(forms.Form):
    consultant = forms.ModelChoiceField(queryset=User.objects.none())

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        consultants = User.objects.filter(role=Role.CONSULTANT, is_active=True)
        if actor.role != Role.SUPER_ADMIN:
            consultants = consultants.filter(office_id=actor.office_id)
        self.fields["consultant"].queryset = consultants


class LostForm(forms.Form):
    reason = forms.CharField(max_length=255)


class LeadAdminForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = ["first_name", "last_name", "email", "phone", "source"]

    def clean(self):
        # The service refuses this too; saying it here keeps what the user typed on the page.
        cleaned = super().clean()
        if not (cleaned.get("email") or cleaned.get("phone")):
            raise forms.ValidationError("A lead needs an email or a phone number.")
        return cleaned


@admin.register(Lead)
class LeadAdmin(ScopedAdmin):
    form = LeadAdminForm
    list_display = ["__str__", "email", "phone", "status", "source", "office", "assigned_to", "created_at"]
    list_filter = ["status", "source", "office"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    list_select_related = ["office", "assigned_to"]
    readonly_fields = ["status", "lost_reason", "office", "assigned_to", "student", "created_by", "converted_at"]
    fields = ["first_name", "last_name", "email", "phone", "source", *readonly_fields]
    inlines = [ActivityInline]
    actions = ["assign", "mark_lost", "export_csv"]
    add_roles = frozenset({Role.SUPER_ADMIN, Role.MANAGER, Role.RECEPTIONIST})
    change_roles = frozenset({Role.SUPER_ADMIN, Role.MANAGER, Role.CONSULTANT})
    delete_roles = frozenset({Role.SUPER_ADMIN, Role.MANAGER})

    def scoped_queryset(self, request):
        return selectors.lead_list_for(request.user)

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in ("first_name", "last_name", "email", "phone", "source")}
        if change:
            services.lead_update(actor=request.user, lead=Lead.objects.get(pk=obj.pk), confirm_duplicate=True, **data)
        else:
            obj.pk = services.lead_create(actor=request.user, confirm_duplicate=True, **data).pk

    def delete_model(self, request, obj):
        services.lead_delete(actor=request.user, lead=obj)

    def _each(self, request, queryset, work):
        done = 0
        for lead in queryset:
            try:
                work(lead)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{lead}: {exc.message}", messages.WARNING)
        return done

    @admin.action(description="Assign to a consultant")
    def assign(self, request, queryset):
        form = AssignForm(request.POST if "apply" in request.POST else None, actor=request.user)
        if form.is_valid():
            consultant = form.cleaned_data["consultant"]
            done = self._each(request, queryset, lambda lead: services.lead_assign(actor=request.user, lead=lead, consultant=consultant))
            self.message_user(request, f"Assigned {done} lead(s) to {consultant.full_name}.")
            return None
        return render(request, "admin/leads/action_form.html", {
            "title": "Assign leads", "form": form, "leads": queryset, "action": "assign", "opts": self.model._meta,
        })

    @admin.action(description="Mark as lost")
    def mark_lost(self, request, queryset):
        form = LostForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            done = self._each(request, queryset, lambda lead: services.lead_change_status(
                actor=request.user, lead=lead, status="lost", lost_reason=reason))
            self.message_user(request, f"Marked {done} lead(s) as lost.")
            return None
        return render(request, "admin/leads/action_form.html", {
            "title": "Mark leads as lost", "form": form, "leads": queryset, "action": "mark_lost", "opts": self.model._meta,
        })

    @admin.action(description="Export selected as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="leads.csv"'
        writer = csv.writer(response)
        writer.writerow(EXPORT_COLUMNS)
        for lead in queryset.select_related("office", "assigned_to"):
            writer.writerow(lead_export_row(lead))
        return response


@admin.register(Activity)
class ActivityAdmin(ReadOnlyScopedAdmin):
    """The timeline is written by the services only; here it can be searched across leads."""

    list_display = ["created_at", "kind", "lead", "student", "actor", "text"]
    list_filter = ["kind"]
    search_fields = ["text", "lead__first_name", "lead__last_name", "lead__email"]
    list_select_related = ["lead", "student", "actor"]

    def scoped_queryset(self, request):
        return Activity.objects.filter(lead__in=selectors.lead_list_for(request.user))
