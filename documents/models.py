from django.conf import settings
from django.db import models


class DocumentKind(models.TextChoices):
    PASSPORT = "passport", "Passport"
    TRANSCRIPT = "transcript", "Transcript"
    CERTIFICATE = "certificate", "Certificate"
    TEST_SCORE = "test_score", "Test score"
    RECOMMENDATION = "recommendation", "Recommendation letter"
    FINANCIAL = "financial", "Financial statement"
    VISA = "visa", "Visa"
    STATEMENT_OF_PURPOSE = "statement_of_purpose", "Statement of purpose"
    CV = "cv", "CV"
    HEALTH_INSURANCE = "health_insurance", "Health insurance"
    MEDICAL = "medical", "Medical certificate"
    # Linked to an application as it moves (applications.models.Application): its offer, confirmation, visa.
    OFFER_LETTER = "offer_letter", "Offer letter"
    CAS = "cas", "CAS (UK)"
    I20 = "i20", "I-20 (US)"
    COE = "coe", "CoE (Australia)"
    LOA = "loa", "Letter of acceptance"
    VISA_DECISION = "visa_decision", "Visa decision"
    OTHER = "other", "Other"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Document(models.Model):
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="documents")
    office = models.ForeignKey(
        "offices.Office", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    file_key = models.CharField(max_length=255)
    file_name = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    review_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Deleting keeps the row (who deleted what, when) as the audit record; the file is removed.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(student__isnull=False) & models.Q(lead__isnull=True))
                | (models.Q(student__isnull=True) & models.Q(lead__isnull=False)),
                name="document_has_one_owner",
            )
        ]
        indexes = [models.Index(fields=["office", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name}"

    @property
    def owner_id(self):
        return self.student_id or self.lead_id
