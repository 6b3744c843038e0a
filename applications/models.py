"""Applications from draft to enrolment (or a refusal), their history, and the checklist templates their
documents are checked against. The moves themselves are `transitions.py`'s; what must never happen is
a constraint here."""

from django.conf import settings
from django.db import models
from django_countries.fields import CountryField

from applications.transitions import FINAL, ApplicationStatus, Confirmation
from documents.models import DocumentKind
from study.vocabulary import StudyLevel


class Application(models.Model):
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications")
    course = models.ForeignKey("catalogue.Course", on_delete=models.PROTECT, related_name="applications")
    intake = models.DateField(help_text="The first day of the intake month (shown as YYYY-MM)")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consulted_applications"
    )
    office = models.ForeignKey("offices.Office", on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT)
    # Denormalised from the course's university, for the board's and the report's filters.
    destination = CountryField()
    offer_conditions = models.TextField(blank=True)
    deposit_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    deposit_due = models.DateField(null=True, blank=True)
    offer_document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmation_kind = models.CharField(max_length=3, choices=Confirmation.choices, blank=True)
    confirmation_number = models.CharField(max_length=64, blank=True)
    confirmation_document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visa_applied_on = models.DateField(null=True, blank=True)
    visa_decided_on = models.DateField(null=True, blank=True)
    visa_reference = models.CharField(max_length=64, blank=True)
    visa_document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Two concurrent creations: one row, the other an IntegrityError the service answers 409.
            models.UniqueConstraint(
                fields=["student", "course", "intake"],
                condition=~models.Q(status__in=sorted(FINAL)),
                name="application_one_open_per_intake",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ApplicationStatus.values), name="application_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(intake__day=1), name="application_intake_month"),
            models.CheckConstraint(
                condition=models.Q(deposit_amount__isnull=True) | models.Q(deposit_amount__gte=0),
                name="application_deposit_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["office", "status", "updated_at"], name="application_board_idx"),
            models.Index(fields=["consultant", "status"], name="application_consultant_idx"),
            models.Index(fields=["student", "-id"], name="application_student_idx"),
            models.Index(fields=["intake"], name="application_intake_idx"),
            # The board's filter choices: an office's distinct intakes and destinations, one probe per value.
            models.Index(fields=["office", "intake"], name="application_office_intake_idx"),
            models.Index(fields=["office", "destination"], name="application_office_dest_idx"),
        ]

    def __str__(self) -> str:
        return f"Application #{self.pk} ({self.get_status_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL


class StatusChange(models.Model):
    """One entry of an application's `status_history`: who moved it, when, why, and what came with it
    (an offer's details, a checklist override's reason). Written by the service only."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=20, blank=True)  # "" for the creation
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    checklist_override = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["application", "created_at"], name="status_change_timeline_idx")]
        constraints = [
            # A manager's override of an incomplete checklist always says why.
            models.CheckConstraint(
                condition=models.Q(checklist_override=False) | ~models.Q(note=""), name="status_override_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_label or '∅'} → {self.to_label}"

    @property
    def from_label(self) -> str:
        return ApplicationStatus(self.from_status).label if self.from_status else ""

    @property
    def to_label(self) -> str:
        return ApplicationStatus(self.to_status).label


class ChecklistTemplate(models.Model):
    """The documents an application needs, for a destination country and level ("" = any). The most
    specific template applies: country and level, then country, then level, then the default."""

    country = CountryField(blank=True)
    level = models.CharField(max_length=12, choices=StudyLevel.choices, blank=True)
    name = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "level", "id"]
        constraints = [models.UniqueConstraint(fields=["country", "level"], name="checklist_template_scope_unique")]

    def __str__(self) -> str:
        return self.name


class ChecklistRequirement(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="requirements")
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=100)
    document_kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    count = models.PositiveSmallIntegerField(default=1, help_text="How many approved documents (two references)")
    required = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="checklist_requirement_key_unique"),
            models.CheckConstraint(condition=models.Q(count__gte=1, count__lte=5), name="checklist_count_range"),
        ]

    def __str__(self) -> str:
        return self.label
