from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from accounts.emails import canonical_email
from accounts.hashers import NODE_PREFIXES


class Role(models.TextChoices):
    SUPER_ADMIN = "super_admin", "Super admin"
    MANAGER = "manager", "Manager"
    CONSULTANT = "consultant", "Consultant"
    RECEPTIONIST = "receptionist", "Receptionist"
    STUDENT = "student", "Student"


# Higher number, more authority: nobody creates or promotes to a rank above their own.
ROLE_RANK: dict[str, int] = {
    Role.STUDENT: 0,
    Role.RECEPTIONIST: 1,
    Role.CONSULTANT: 1,
    Role.MANAGER: 2,
    Role.SUPER_ADMIN: 3,
}
STAFF_ROLES = {Role.SUPER_ADMIN, Role.MANAGER, Role.CONSULTANT, Role.RECEPTIONIST}
# Who runs offices: manage staff, see reports, monitor conversations, assign leads.
MANAGING_ROLES = frozenset({Role.SUPER_ADMIN, Role.MANAGER})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        # The canonical form, compared exactly: never the database's UPPER() (accounts/emails.py).
        return self.get(email=canonical_email(email))

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=canonical_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields["role"] = Role.SUPER_ADMIN
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser):
    """A person who signs in: staff of an office, a super admin, or a student.

    Authority comes from `role` (and `office` for staff), not from Django's
    permission tables; the admin and the API ask the same selectors.
    """

    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT)
    office = models.ForeignKey(
        "offices.Office", null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    phone = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A person whose data must be kept (a dispute, an investigation): erasure is refused while set.
    legal_hold = models.BooleanField(default=False)
    # Set once the person is erased (privacy.services.person_erase): the row stays, pseudonymised,
    # so audit entries, conversations' histories and report numbers keep their references.
    erased_at = models.DateTimeField(null=True, blank=True)
    # Consultants: open leads routing may give them at most (leads.routing); empty = no cap.
    max_open_leads = models.PositiveIntegerField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=[Role.SUPER_ADMIN, Role.STUDENT]) | models.Q(office__isnull=False),
                name="user_staff_has_office",
            ),
        ]
        indexes = [models.Index(fields=["office", "role"])]

    def __str__(self) -> str:
        return self.full_name  # the console shows people by name (their email when they have none)

    def check_password(self, raw_password):
        if self.password.startswith(NODE_PREFIXES):  # copied as-is from the original Node product
            self.password = f"bcrypt${self.password}"  # the form Django's hasher lookup reads
        return super().check_password(raw_password)  # re-hashed with the preferred hasher on success

    def save(self, *args, **kwargs):
        self.email = canonical_email(self.email or "")
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.first_name or self.email

    # Django admin and third-party code ask these; they follow the role.
    @property
    def is_staff(self) -> bool:
        return self.is_active and self.role in STAFF_ROLES

    @property
    def is_superuser(self) -> bool:
        return self.is_active and self.role == Role.SUPER_ADMIN

    @property
    def is_super_admin(self) -> bool:
        return self.role == Role.SUPER_ADMIN

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_superuser

    def has_perms(self, perms, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perms)

    def has_module_perms(self, app_label) -> bool:
        return self.is_staff
