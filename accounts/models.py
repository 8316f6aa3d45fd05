"""Users log in with their email; every user has one profile saying who they are."""

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower

from core.outbox import OutboxRow


class UserManager(DjangoUserManager):
    """Creates users by email (there is no username)."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    # When the address was last proven to reach this person (a link we emailed to it was
    # used). None for accounts made by staff, seed data or scripts, and after staff
    # change the address: a buyer's checkout and a contractor's onboarding wait for it.
    email_verified_at = models.DateTimeField("email verified", null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []  # email is the USERNAME_FIELD; nothing else is asked for

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        constraints = [
            # Emails are compared case-insensitively: Ann@x.com and ann@x.com are one person.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class UserProfile(models.Model):
    """Role and Stripe identity of a user; created by `accounts.services.profile_create`."""

    class Role(models.TextChoices):
        BUYER = "buyer", "Buyer"
        CONTRACTOR = "contractor", "Contractor"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=16, choices=Role.choices)
    display_name = models.CharField(max_length=120, blank=True)
    # cus_… for buyers (their Stripe Customer), acct_… for contractors (connected account).
    stripe_id = models.CharField(max_length=255, blank=True, default="")
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    requirements = models.JSONField(default=dict, blank=True)
    tos_accepted_at = models.DateTimeField(null=True, blank=True)
    tos_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["buyer", "contractor"]),
                name="accounts_profile_role_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(stripe_id="")
                | models.Q(role="buyer", stripe_id__startswith="cus_")
                | models.Q(role="contractor", stripe_id__startswith="acct_"),
                name="accounts_profile_stripe_id_prefix",
            ),
            models.UniqueConstraint(
                fields=["stripe_id"],
                condition=~models.Q(stripe_id=""),
                name="accounts_profile_stripe_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.email} ({self.role})"

    @property
    def can_take_charges(self) -> bool:
        """A connected account that Stripe lets receive destination charges."""
        return self.charges_enabled and self.stripe_id.startswith("acct_")

    @property
    def onboarding_started(self) -> bool:
        """The contractor has sent Stripe something (the hosted form, or our terms step).

        Sign-up creates the connected account at once, and a new account is always
        restricted for overdue details: until this is true that restriction is not news,
        so neither the dashboard nor a notification calls the account restricted.
        """
        return self.details_submitted or self.tos_accepted_at is not None

    @property
    def is_contractor(self) -> bool:
        return self.role == self.Role.CONTRACTOR

    @property
    def is_buyer(self) -> bool:
        return self.role == self.Role.BUYER

    @property
    def name(self) -> str:
        return self.display_name or self.user.email.split("@")[0]


class CustomerEmailSync(OutboxRow):
    """A buyer's new email address on its way to their Stripe Customer (receipts go
    there). A row, not a message: the outbox hands it to a worker until Stripe has it,
    so a broker or Stripe outage delays the update and never loses it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        # A later change of address was made meanwhile: sending this one would be stale.
        SUPERSEDED = "superseded", "Superseded"
        FAILED = "failed", "Failed"

    TRANSITIONS = {
        Status.PENDING: {Status.DONE, Status.SUPERSEDED, Status.FAILED},
        Status.FAILED: set(),  # Stripe refused it (the Customer is gone): for a person
        Status.DONE: set(),
        Status.SUPERSEDED: set(),
    }

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="customer_email_syncs")
    customer = models.CharField(max_length=255, help_text="The buyer's Stripe Customer (cus_…).")
    email = models.EmailField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="accounts_email_sync_due")]

    def __str__(self) -> str:
        return f"{self.customer} → {self.email} ({self.status})"
