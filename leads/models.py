from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower

from accounts.models import User
from accounts.selectors import student_link_counts


class LeadSource(models.TextChoices):
    WEBSITE = "website", "Website"
    WALK_IN = "walk_in", "Walk-in"
    REFERRAL = "referral", "Referral"
    SOCIAL = "social", "Social media"
    EVENT = "event", "Event"
    OTHER = "other", "Other"


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    APPLIED = "applied", "Applied"
    CONVERTED = "converted", "Converted"
    LOST = "lost", "Lost"


# The pipeline's open stages, in order; converted and lost are closed.
OPEN_STATUSES: list[str] = [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.APPLIED]


class Lead(models.Model):
    """A prospective student, from first contact until they become a student (or are lost)."""

    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.OTHER)
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    lost_reason = models.CharField(max_length=255, blank=True)
    # What the prospective student looks for (study.serializers.PreferencesSerializer); the profile's at conversion.
    preferences = models.JSONField(default=dict, blank=True)
    # Null while the lead waits in the unassigned queue (website signups without an office).
    office = models.ForeignKey("offices.Office", null=True, blank=True, on_delete=models.PROTECT, related_name="leads")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_leads",
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="student_leads",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    # Names, email and phone removed (the person erased, or a lost lead past LEAD_LOST_RETENTION_DAYS):
    # the row stays for the report numbers (leads by status, source, office).
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["office", "status"]),
            models.Index(fields=["assigned_to", "status"]),
            models.Index(Lower("email"), "office", name="lead_office_email_idx"),
            models.Index(fields=["office", "phone"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=LeadStatus.values), name="lead_status_valid"),
            models.CheckConstraint(condition=models.Q(source__in=LeadSource.values), name="lead_source_valid"),
            # A lost lead always says why, whichever door (API, admin, import, shell) closed it.
            models.CheckConstraint(
                condition=~models.Q(status=LeadStatus.LOST) | ~models.Q(lost_reason=""), name="lead_lost_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def full_name(self) -> str:
        return str(self)

    @property
    def linked_student(self) -> User | None:
        """The student account this lead reaches: its `student` when the link counts (no office yet, or
        the lead's office: `accounts.selectors.student_link_counts`), else None. Everything that goes
        from a lead to its student (answers, conversations, notifications) goes through this."""
        student = self.student
        if student is not None and student_link_counts(
            student_office_id=student.office_id, lead_office_id=self.office_id
        ):
            return student
        return None

    @property
    def linked_student_id(self) -> int | None:
        student = self.linked_student
        return student.pk if student is not None else None


class ActivityKind(models.TextChoices):
    CREATED = "created", "Created"
    ASSIGNED = "assigned", "Assigned"
    STATUS_CHANGED = "status_changed", "Status changed"
    CONVERTED = "converted", "Converted"
    ESCALATED = "escalated", "Escalated"
    NOTE = "note", "Note"
    APPOINTMENT = "appointment", "Appointment"
    DOCUMENT = "document", "Document"
    PROFILE = "profile", "Profile"
    APPLICATION = "application", "Application"
    TASK = "task", "Task"
    PROPOSAL = "proposal", "Proposal"


class Activity(models.Model):
    """One entry on a lead's (or a student's) timeline, written by the services only."""

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="activities")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lead__isnull=False) | models.Q(student__isnull=False),
                name="activity_has_subject",
            )
        ]
        indexes = [models.Index(fields=["lead", "-created_at"]), models.Index(fields=["student", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.created_at:%Y-%m-%d %H:%M}"


class LeadRoutingRule(models.Model):
    """One rule of an office's lead routing (`leads.routing`), tried in `order`: a lead whose source,
    wished countries and levels match (an empty list matches anything) goes to `consultant`, or to the
    next of `round_robin` with room under their `max_open_leads`. No rule chose: the office's active
    consultants in turn."""

    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="routing_rules")
    order = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100, blank=True)
    sources = ArrayField(models.CharField(max_length=20, choices=LeadSource.choices), default=list, blank=True)
    countries = ArrayField(models.CharField(max_length=2), default=list, blank=True, help_text="ISO 3166 alpha-2")
    levels = ArrayField(models.CharField(max_length=12), default=list, blank=True)
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    round_robin = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)
    # The consultant this rule chose last: the round robin goes on after them.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["office", "order", "id"]
        indexes = [models.Index(fields=["office", "order"], name="routing_rule_office_idx")]

    def __str__(self) -> str:
        return self.name or f"Rule {self.order}"

    @property
    def label(self) -> str:
        return f"rule #{self.pk}" + (f" “{self.name}”" if self.name else "")


class RoutingCursor(models.Model):
    """Where an office's fallback round robin stands (the consultant it chose last)."""

    office = models.OneToOneField("offices.Office", on_delete=models.CASCADE, related_name="routing_cursor")
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"routing cursor of office {self.office_id}"
