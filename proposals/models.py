"""A consultant's shortlist of courses for a student (`proposals/`): items with their estimated yearly cost,
a message and an expiry; `draft → sent → accepted | declined | expired`. The moves are `states.py`'s."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django_countries.fields import CountryField

from proposals.states import ProposalStatus


class LivingCost(models.Model):
    """A year's living cost in a destination country (rent, food, transport), for proposals' estimates.
    Reference data managers keep in the console."""

    country = CountryField(unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, help_text="ISO 4217")
    notes = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="living_cost_not_negative"),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="living_cost_currency"),
        ]

    def __str__(self) -> str:
        return f"{self.country.name}: {self.amount} {self.currency}"


class Proposal(models.Model):
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals")
    consultant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals_made")
    office = models.ForeignKey("offices.Office", on_delete=models.PROTECT, related_name="proposals")
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT)
    message = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ProposalStatus.values), name="proposal_status_valid"),
            # Sent (and everything after) always has an expiry and a sending time.
            models.CheckConstraint(
                condition=models.Q(status=ProposalStatus.DRAFT)
                | models.Q(expires_at__isnull=False, sent_at__isnull=False),
                name="proposal_sent_has_expiry",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "-id"], name="proposal_student_idx"),
            models.Index(fields=["office", "status"], name="proposal_office_idx"),
            models.Index(fields=["consultant", "status"], name="proposal_consultant_idx"),
            models.Index(fields=["status", "expires_at"], name="proposal_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"Proposal #{self.pk} ({self.get_status_display().lower()})"


class ProposalItem(models.Model):
    """One course proposed, with the estimate as it stood when proposed (a later fee change does not
    rewrite what the student was told). `eligible`: whether the student's profile met the course's
    requirements then (proposing an ineligible course is allowed, and flagged)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="items")
    course = models.ForeignKey("catalogue.Course", on_delete=models.PROTECT, related_name="+")
    intake = models.DateField(help_text="The first day of the intake month")
    note = models.CharField(max_length=1000, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    eligible = models.BooleanField(default=True)
    tuition = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    living = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    living_currency = models.CharField(max_length=3, blank=True)
    application = models.OneToOneField(
        "applications.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposal_item"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "course", "intake"], name="proposal_item_unique"),
            models.CheckConstraint(condition=models.Q(intake__day=1), name="proposal_item_intake_month"),
        ]

    def __str__(self) -> str:
        return f"{self.course} ({self.intake:%Y-%m})"
