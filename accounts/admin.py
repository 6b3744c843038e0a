from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.urls import reverse

from accounts import selectors, services
from accounts.lockout import lockout_response
from accounts.models import Role, User
from accounts.scoped_admin import ScopedAdmin
from core.errors import ApplicationError, RateLimited, ValidationFailed


class UserAdminForm(forms.ModelForm):
    password = forms.CharField(required=False, widget=forms.PasswordInput, help_text="The new user's first password.")

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "phone", "role", "office", "max_open_leads"]
        labels = {"max_open_leads": "Max open leads"}
        help_texts = {
            "max_open_leads": "Consultants only: lead routing skips them once they hold this many open leads "
            "(new, contacted, qualified, applied). Empty: no cap."
        }


class PeopleChangeList(ChangeList):
    """A student's row opens their workspace in the console (console/workspace.py); staff open their form."""

    def url_for_result(self, result):
        if result.role == Role.STUDENT:
            return reverse("admin:console-student", args=[result.pk])
        return super().url_for_result(result)


@admin.register(User)
class UserAdmin(ScopedAdmin):
    form = UserAdminForm
    list_display = ["email", "first_name", "last_name", "role", "office", "is_active", "last_seen"]
    list_filter = ["role", "is_active", "office"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    ordering = ["email"]
    actions = ["deactivate_users"]
    readonly_fields = ["is_active", "last_seen", "last_login", "date_joined"]
    # People are deactivated (tokens revoked, sockets closed), never deleted: their leads,
    # messages and audit trail keep pointing at them.
    delete_roles = frozenset()

    def scoped_queryset(self, request):
        return selectors.user_list_for(request.user)

    def get_changelist(self, request, **kwargs):
        return PeopleChangeList

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or selectors.user_can_manage(request.user, obj))

    def save_model(self, request, obj, form, change):
        """Every write goes through the same services as the API (role and office rules)."""
        # A refusal (ApplicationError) escapes to ScopedAdmin, which shows it; the view rolls back.
        keys = ("email", "first_name", "last_name", "phone", "role", "office", "max_open_leads")
        data = {k: form.cleaned_data[k] for k in keys}
        if change:
            saved = services.user_update(actor=request.user, user=User.objects.get(pk=obj.pk), **data)
        else:
            saved = services.user_create(actor=request.user, password=form.cleaned_data.get("password") or "", **data)
        obj.pk = saved.pk

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # Passwords are the owner's (auth/password); the admin only sets the first one.
        return [f for f in fields if f != "password"] if obj is not None else fields

    @admin.action(description="Deactivate selected users (signs them out everywhere)")
    def deactivate_users(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                services.user_deactivate(actor=request.user, user=user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{user.email}: {exc.message}", messages.WARNING)
        self.message_user(request, f"Deactivated {done} user(s).")


class ConsolePasswordChangeForm(PasswordChangeForm):
    """The console's "Change password" through the same service as `POST auth/password`: wrong current
    passwords count on the sign-in lockout, and the user's tokens and sockets end there too (Django's
    own form would only save the new hash). The service checks and writes in one step, so it runs
    once the fields are valid, in `clean()`, where its refusal can still be shown on the form."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        return self.cleaned_data["old_password"]  # checked (and counted) by the service, below

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.user = services.password_change(
                user=self.user,
                old_password=cleaned["old_password"],
                new_password=cleaned["new_password1"],
                request=self.request,
            )
        except ValidationFailed as exc:
            if exc.code != "wrong_password":
                raise forms.ValidationError(exc.message, code=exc.code) from None
            self.add_error("old_password", forms.ValidationError(self.error_messages["password_incorrect"]))
        return cleaned

    def save(self, commit=True):
        return self.user  # saved by the service in clean(); the view keeps this session signed in


class ConsolePasswordChangeView(PasswordChangeView):
    form_class = ConsolePasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except RateLimited:  # the account's password checks are locked: the sign-in lockout's page
            return lockout_response(request)


def console_password_change(request):
    """admin/password_change/, as AdminSite.password_change serves it, with the form above."""
    request.current_app = admin.site.name
    return ConsolePasswordChangeView.as_view(
        success_url=reverse("admin:password_change_done"),
        extra_context=admin.site.each_context(request),
    )(request)
