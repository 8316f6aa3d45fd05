"""Our record of money at Stripe: payments, refunds, events, balances, debits.

Amounts are integer minor units plus a lowercase currency. Statuses move only
through `core.statemachine` (called by `payments.services`), which locks the row
and follows TRANSITIONS.
"""

from django.conf import settings
from django.db import models

from core.money import format_amount
from core.outbox import OutboxRow
from shop.models import CURRENCY_CODE, Order


class Payment(OutboxRow):
    """One order's payment: authorised at checkout, captured once the order is fulfilled.

    A single-contractor checkout is a destination charge: the PaymentIntent is this
    order's own (`transfer_group` empty). A checkout of several contractors' orders is
    one PaymentIntent on the platform shared by their Payment rows (`transfer_group` is
    the checkout id): the buyer authenticates once, and each contractor is paid by a
    `Transfer` of their own once their order is fulfilled ("separate charges and
    transfers", README "Money flow"). For such a row, `status` is this order's part:
    *authorised* while it is held (on the card, or on the platform once the shared
    charge was captured for another order: then `amount_captured` is set), *captured*
    once the order was fulfilled and its transfer asked for.

    `action` is work asked for and not done yet (core/outbox.py): a capture once the
    order is fulfilled, a cancellation asked by staff or by expiry.
    """

    class Action(models.TextChoices):
        NONE = "", "None"
        CAPTURE = "capture", "Capture"
        CANCEL = "cancel", "Cancel"

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting card"
        REQUIRES_ACTION = "requires_action", "Awaiting 3-D Secure"
        AUTHORIZED = "authorized", "Authorised"
        CAPTURED = "captured", "Captured"
        CANCELED = "canceled", "Canceled"

    TRANSITIONS = {
        # pending → pending: a decline on a retried card records its new error.
        Status.PENDING: frozenset(
            {
                Status.PENDING,
                Status.REQUIRES_ACTION,
                Status.AUTHORIZED,
                Status.CAPTURED,
                Status.CANCELED,
            }
        ),
        # A failed 3-D Secure challenge sends the intent back to awaiting a card.
        Status.REQUIRES_ACTION: frozenset(
            {Status.PENDING, Status.AUTHORIZED, Status.CAPTURED, Status.CANCELED}
        ),
        Status.AUTHORIZED: frozenset({Status.CAPTURED, Status.CANCELED}),
        Status.CAPTURED: frozenset(),
        Status.CANCELED: frozenset(),
    }

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    # Unique for a destination charge; shared by the orders of one checkout otherwise.
    # NULL until Stripe made it, as when the column was unique (NULLs never collide).
    stripe_payment_intent_id = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True, db_index=True
    )
    stripe_charge_id = models.CharField(max_length=255, blank=True, default="")
    # The transfer that paid the contractor: Stripe's own for a destination charge,
    # our Transfer's for a checkout paid as one platform charge.
    stripe_transfer_id = models.CharField(max_length=255, blank=True, default="")
    # Not empty: the PaymentIntent is the checkout's platform charge, shared with the
    # other orders of the checkout, and this is its `transfer_group` (the checkout id).
    transfer_group = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    amount = models.PositiveBigIntegerField()
    amount_authorized = models.PositiveBigIntegerField(default=0)
    amount_captured = models.PositiveBigIntegerField(default=0)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    application_fee_amount = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    destination_account = models.CharField(max_length=255, help_text="acct_… of the seller")
    authorized_at = models.DateTimeField(null=True, blank=True)
    capture_before = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, blank=True, default="")
    # The cancellation reason sent to Stripe with a cancel action.
    action_reason = models.CharField(max_length=32, blank=True, default="")
    last_error_code = models.CharField(max_length=64, blank=True, default="")
    last_error_message = models.TextField(blank=True, default="")
    # The failed charge of the last decline: a new attempt has a new one, even with the
    # same decline code (the declined-checkout release counts from it), a repeated
    # webhook the same one.
    last_error_charge = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The dispatcher's query: work still to do, by when it is due.
        indexes = [models.Index(fields=["status", "due_at"], name="payments_payment_work_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_payment_intent_id"],
                condition=models.Q(transfer_group=""),
                name="payments_payment_destination_intent_unique",
            ),
            models.UniqueConstraint(
                fields=["stripe_payment_intent_id", "order"],
                name="payments_payment_intent_order_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_authorized__lte=models.F("amount")),
                name="payments_payment_authorized_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_captured__lte=models.F("amount")),
                name="payments_payment_captured_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount_captured")),
                name="payments_payment_refunded_within_captured",
            ),
            models.CheckConstraint(
                condition=models.Q(application_fee_amount__lte=models.F("amount")),
                name="payments_payment_fee_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CODE),
                name="payments_payment_currency_code",
            ),
            models.CheckConstraint(
                condition=models.Q(destination_account__startswith="acct_"),
                name="payments_payment_destination_acct",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_payment_intent_id or f"Payment #{self.pk}"

    @property
    def refundable_amount(self) -> int:
        return self.amount_captured - self.amount_refunded

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.currency)

    @property
    def shares_intent(self) -> bool:
        """Paid by the checkout's platform charge (separate charges and transfers)."""
        return bool(self.transfer_group)

    @property
    def transfer_amount(self) -> int:
        """What the contractor is paid for this order: the amount less the platform fee."""
        return self.amount - self.application_fee_amount


class Refund(OutboxRow):
    """A refund of (part of) a captured payment, asked for by staff or made in Stripe."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PENDING = "pending", "Pending at Stripe"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    TRANSITIONS = {
        Status.REQUESTED: frozenset(
            {Status.PENDING, Status.SUCCEEDED, Status.FAILED, Status.CANCELED}
        ),
        Status.PENDING: frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED}),
        # Stripe may report a refund failed after it first succeeded (e.g. closed card).
        Status.SUCCEEDED: frozenset({Status.FAILED}),
        Status.FAILED: frozenset(),
        Status.CANCELED: frozenset(),
    }

    class Reason(models.TextChoices):
        REQUESTED_BY_CUSTOMER = "requested_by_customer", "Requested by customer"
        DUPLICATE = "duplicate", "Duplicate"
        FRAUDULENT = "fraudulent", "Fraudulent"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True, default="")
    note = models.TextField(blank=True, default="", help_text="Staff's own words, kept here.")
    reverse_transfer = models.BooleanField(default=True)
    refund_application_fee = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="refunds_requested",
        help_text="Empty for refunds made directly in Stripe's dashboard.",
    )
    failure_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The dispatcher's query: work still to do, by when it is due.
        indexes = [models.Index(fields=["status", "due_at"], name="payments_refund_work_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_refund_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CODE),
                name="payments_refund_currency_code",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_refund_id or f"Refund #{self.pk}"

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.currency)


class StripeEvent(OutboxRow):
    """A webhook event, stored before we answer 2xx and processed by a Celery task."""

    class Endpoint(models.TextChoices):
        PLATFORM = "platform", "Platform"
        CONNECT = "connect", "Connect"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        # No handler, or a source that does not own the object (reason in last_error).
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    TRANSITIONS = {
        Status.RECEIVED: frozenset({Status.PROCESSED, Status.IGNORED, Status.FAILED}),
        Status.FAILED: frozenset({Status.PROCESSED, Status.IGNORED, Status.FAILED}),
        # A replay from admin re-runs handlers; they are idempotent. It checks the
        # event's source again too: one processed before that check may be ignored now.
        Status.PROCESSED: frozenset({Status.PROCESSED, Status.IGNORED, Status.FAILED}),
        Status.IGNORED: frozenset({Status.PROCESSED, Status.IGNORED}),
    }

    stripe_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=16, choices=Endpoint.choices)
    account = models.CharField(max_length=255, blank=True, default="")
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]
        # Declared here rather than with unique=True / db_index=True, which on PostgreSQL
        # add a second, LIKE-prefix index per column that no query uses; every webhook
        # pays for each index on INSERT.
        constraints = [
            models.UniqueConstraint(fields=["stripe_id"], name="payments_event_stripe_id_unique")
        ]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["type"], name="payments_event_type_idx"),
            models.Index(fields=["account"], name="payments_event_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class BalanceSnapshot(models.Model):
    """A connected account's Stripe balance in one currency, as last read from Stripe.

    Amounts may be negative: a debit can take a connected balance below zero.
    """

    contractor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="balance_snapshots"
    )
    account = models.CharField(max_length=255)
    currency = models.CharField(max_length=3)
    available_amount = models.BigIntegerField(default=0)
    pending_amount = models.BigIntegerField(default=0)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "currency"], name="payments_balance_account_currency"
            ),
            models.CheckConstraint(
                condition=models.Q(account__startswith="acct_"),
                name="payments_balance_account_acct",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.currency}"


class ContractorDebit(OutboxRow):
    """A penalty taken from a contractor (e.g. a no-show), with its reason."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    TRANSITIONS = {
        Status.PENDING: frozenset({Status.SUCCEEDED, Status.FAILED}),
        Status.SUCCEEDED: frozenset(),
        Status.FAILED: frozenset(),
    }

    class Method(models.TextChoices):
        ACCOUNT_DEBIT = "account_debit", "Account debit (charge on the connected account)"
        TRANSFER_REVERSAL = "transfer_reversal", "Transfer reversal (tied to an order)"

    contractor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="debits"
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="debits"
    )
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    method = models.CharField(max_length=24, choices=Method.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_object_id = models.CharField(max_length=255, blank=True, default="")
    failure_message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="debits_created",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The dispatcher's query: work still to do, by when it is due.
        indexes = [models.Index(fields=["status", "due_at"], name="payments_debit_work_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_debit_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CODE),
                name="payments_debit_currency_code",
            ),
            # A transfer reversal needs the order whose transfer it reverses.
            models.CheckConstraint(
                condition=~models.Q(method="transfer_reversal") | models.Q(order__isnull=False),
                name="payments_debit_reversal_has_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Debit of {format_amount(self.amount, self.currency)} from {self.contractor}"


# Stripe keeps a refusal (a 4xx) for the idempotency key that got it, as it keeps any
# result: a try after a refusal needs the next key of the row's series.
REFUSALS_HELP = "Times Stripe refused it; the next try sends the next idempotency key."


def attempt_key(base: str, refusals: int) -> str:
    """The idempotency key of a row's work after `refusals` refusals by Stripe (each
    refusal proves nothing was written, so the next try may use a new key)."""
    return base if not refusals else f"{base}/after-{refusals}"


class Transfer(OutboxRow):
    """The money of one fulfilled order to its contractor, from the checkout's platform
    charge (separate charges and transfers): amount − platform fee, to the seller's
    connected account, with `source_transaction` the charge, in the checkout's
    `transfer_group`.

    Written *pending* in the transaction that marks the order's payment captured, and
    sent by a task whose idempotency key is this row's (core/outbox.py). A contractor is
    never paid before that: no row exists for an order not fulfilled.

    An order fulfilled while the buyer's bank disputes the charge is not paid until
    the dispute closes (*on hold*): won, the transfer goes as asked; lost, the order's
    share of the dispute is `withheld` from it first (payments/services/disputes.py),
    and a transfer the dispute took whole is never sent (*withheld*, amount 0).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ON_HOLD = "on_hold", "On hold: the charge is disputed"
        SUCCEEDED = "succeeded", "Sent"
        FAILED = "failed", "Refused by Stripe"
        WITHHELD = "withheld", "Not sent: a lost dispute took it"

    TRANSITIONS = {
        # Withheld: a lost dispute took all of an order's transfer before it was sent.
        Status.PENDING: frozenset(
            {Status.SUCCEEDED, Status.FAILED, Status.ON_HOLD, Status.WITHHELD}
        ),
        Status.ON_HOLD: frozenset({Status.PENDING}),
        Status.SUCCEEDED: frozenset(),
        # Staff may send a refused transfer again once its cause is fixed (admin).
        Status.FAILED: frozenset({Status.PENDING}),
        Status.WITHHELD: frozenset(),
    }

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="transfer")
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    destination_account = models.CharField(max_length=255)
    transfer_group = models.CharField(max_length=255)
    # The checkout's charge the money comes from (`source_transaction`).
    source_charge = models.CharField(max_length=255)
    # Kept back from `amount` (what is sent) for the order's share of a lost dispute.
    withheld = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_transfer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    refusals = models.PositiveIntegerField(default=0, help_text=REFUSALS_HELP)
    failure_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"], name="payments_transfer_work_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0) | models.Q(status="withheld"),
                name="payments_transfer_amount_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CODE),
                name="payments_transfer_currency_code",
            ),
            models.CheckConstraint(
                condition=models.Q(destination_account__startswith="acct_"),
                name="payments_transfer_destination_acct",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_transfer_id or f"Transfer #{self.pk}"

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.currency)


class TransferReversal(OutboxRow):
    """Money taken back from a contractor's transfer for a refund of their order (their
    share of it: see payments.services.transfers). Written once Stripe has refunded
    the buyer, sent by a task keyed by this row."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    TRANSITIONS = {
        Status.PENDING: frozenset({Status.SUCCEEDED, Status.FAILED}),
        Status.SUCCEEDED: frozenset(),
        Status.FAILED: frozenset({Status.PENDING}),
    }

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="reversals")
    refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, related_name="transfer_reversal"
    )
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_reversal_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    refusals = models.PositiveIntegerField(default=0, help_text=REFUSALS_HELP)
    failure_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"], name="payments_reversal_work_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_reversal_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CODE),
                name="payments_reversal_currency_code",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_reversal_id or f"Reversal #{self.pk}"

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.currency)


class Payout(models.Model):
    """A payout from a connected account to the contractor's bank, as webhooks report it."""

    stripe_id = models.CharField(max_length=255, unique=True)
    contractor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payouts"
    )
    account = models.CharField(max_length=255)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=24)  # Stripe's own: pending, in_transit, paid, failed…
    arrival_date = models.DateTimeField(null=True, blank=True)
    failure_message = models.TextField(blank=True, default="")
    # Stripe's code for a failed payout (account_closed, no_account…): what the
    # dashboard explains, with what the contractor can do about it.
    failure_code = models.CharField(max_length=64, blank=True, default="")
    # Made by the account's schedule (True) or asked for with "Pay out now" (False).
    automatic = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.stripe_id

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.currency)


class PayoutRequest(OutboxRow):
    """A contractor's "Pay out now" on a manual payout schedule: the row is the work
    (core/outbox.py), sent to Stripe by a task whose idempotency key is this row's, so
    a broker outage delays it and never loses it. At most one is open per account and
    currency (a double click makes one payout)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SENT = "sent", "Sent to Stripe"
        REFUSED = "refused", "Refused by Stripe"

    TRANSITIONS = {
        Status.REQUESTED: frozenset({Status.SENT, Status.REFUSED}),
        Status.SENT: frozenset(),
        Status.REFUSED: frozenset(),
    }

    contractor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_requests"
    )
    account = models.CharField(max_length=255)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    stripe_payout_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    failure_message = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"], name="payments_payoutreq_work_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_payoutreq_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CODE),
                name="payments_payoutreq_currency_code",
            ),
            models.CheckConstraint(
                condition=models.Q(account__startswith="acct_"),
                name="payments_payoutreq_account_acct",
            ),
            # The database's word that a double click makes one payout.
            models.UniqueConstraint(
                fields=["account", "currency"],
                condition=models.Q(status="requested"),
                name="payments_payoutreq_one_open",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_payout_id or f"Payout request #{self.pk}"

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.currency)


class PayoutSchedule(models.Model):
    """A contractor's payout schedule at Stripe (`settings.payouts.schedule`) and the
    money still pending in their balance by the day it becomes available: what the
    dashboard needs to say when the next payout comes, without calling Stripe.

    Kept current by `account.updated` webhooks and the dashboard's refresh."""

    class Interval(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        MANUAL = "manual", "Manual"

    contractor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payout_schedules"
    )
    account = models.CharField(max_length=255, unique=True)
    interval = models.CharField(max_length=16, choices=Interval.choices)
    delay_days = models.PositiveSmallIntegerField(default=0)
    weekly_anchor = models.CharField(max_length=16, blank=True, default="")
    monthly_anchor = models.PositiveSmallIntegerField(null=True, blank=True)
    # [{"currency": "usd", "amount": 1234, "available_on": <unix time>}, …], as last read.
    pending_funds = models.JSONField(default=list, blank=True)
    pending_fetched_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__startswith="acct_"),
                name="payments_payoutschedule_account_acct",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.interval}"


class Dispute(models.Model):
    """A buyer's dispute of a charge, as Stripe's webhooks report it.

    The platform is the merchant of record (destination charges, and a checkout's
    platform charge), so Stripe takes the disputed amount and its fee from the
    platform: payments/services/disputes.py recovers it from the contractor per
    DISPUTE_RECOVERY / DISPUTE_FEE_POLICY (ContractorDebit rows, in `debits`) and
    gives it back if the dispute is won (a DisputeAction). `status` is Stripe's own.
    """

    class Status(models.TextChoices):
        WARNING_NEEDS_RESPONSE = "warning_needs_response", "Inquiry: needs response"
        WARNING_UNDER_REVIEW = "warning_under_review", "Inquiry: under review"
        WARNING_CLOSED = "warning_closed", "Inquiry closed"
        NEEDS_RESPONSE = "needs_response", "Needs response"
        UNDER_REVIEW = "under_review", "Under review"
        APPEAL_NEEDS_RESPONSE = "appeal_needs_response", "Appeal: needs response"
        APPEAL_UNDER_REVIEW = "appeal_under_review", "Appeal: under review"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        PREVENTED = "prevented", "Prevented"

    # An inquiry (warning_*) may turn into a chargeback; a chargeback never turns back
    # into an inquiry; a network may take a reviewed chargeback to a second round
    # (appeal_*); an inquiry or chargeback may be prevented (the bank drops it before
    # it becomes, or stays, a chargeback). Won, lost and prevented are final: a late
    # event cannot reopen them. Stripe's statuses as of the pinned API version.
    TRANSITIONS = {
        Status.WARNING_NEEDS_RESPONSE: frozenset(
            {
                Status.WARNING_UNDER_REVIEW,
                Status.WARNING_CLOSED,
                Status.NEEDS_RESPONSE,
                Status.UNDER_REVIEW,
                Status.WON,
                Status.LOST,
                Status.PREVENTED,
            }
        ),
        Status.WARNING_UNDER_REVIEW: frozenset(
            {
                Status.WARNING_CLOSED,
                Status.NEEDS_RESPONSE,
                Status.UNDER_REVIEW,
                Status.WON,
                Status.LOST,
                Status.PREVENTED,
            }
        ),
        Status.WARNING_CLOSED: frozenset({Status.NEEDS_RESPONSE}),
        Status.NEEDS_RESPONSE: frozenset(
            {
                Status.UNDER_REVIEW,
                Status.APPEAL_NEEDS_RESPONSE,
                Status.WON,
                Status.LOST,
                Status.PREVENTED,
            }
        ),
        Status.UNDER_REVIEW: frozenset(
            {Status.APPEAL_NEEDS_RESPONSE, Status.WON, Status.LOST, Status.PREVENTED}
        ),
        Status.APPEAL_NEEDS_RESPONSE: frozenset(
            {Status.APPEAL_UNDER_REVIEW, Status.WON, Status.LOST}
        ),
        Status.APPEAL_UNDER_REVIEW: frozenset({Status.WON, Status.LOST}),
        Status.WON: frozenset(),
        Status.LOST: frozenset(),
        Status.PREVENTED: frozenset(),
    }
    # Evidence can be sent (and the dispute accepted) in these.
    OPEN = frozenset(
        {Status.WARNING_NEEDS_RESPONSE, Status.NEEDS_RESPONSE, Status.APPEAL_NEEDS_RESPONSE}
    )
    # Decided, or dropped: nothing more will be withdrawn or given back.
    CLOSED = frozenset({Status.WON, Status.LOST, Status.WARNING_CLOSED, Status.PREVENTED})

    stripe_dispute_id = models.CharField(max_length=255, unique=True)
    stripe_charge_id = models.CharField(max_length=255)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, default="")
    # The disputed order's payment; for a checkout's shared charge, its first order's
    # (the recovery is shared among all of the charge's orders).
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="disputes")
    status = models.CharField(max_length=24, choices=Status.choices)
    reason = models.CharField(max_length=64, blank=True, default="")
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    # Stripe's dispute fee, from the withdrawal's balance transaction (0 until then).
    fee_amount = models.PositiveBigIntegerField(default=0)
    fee_currency = models.CharField(max_length=3, blank=True, default="")
    due_by = models.DateTimeField(null=True, blank=True, help_text="Evidence due by.")
    funds_withdrawn = models.BooleanField(default=False)
    funds_reinstated = models.BooleanField(default=False)
    # Stripe's word on whether the charge may still be refunded (an inquiry: yes).
    is_charge_refundable = models.BooleanField(default=False)
    # Stripe gave its dispute fee back with the reinstated funds.
    fee_returned = models.BooleanField(default=False)
    # Staff's evidence, as Stripe's field names ({"product_description": …}).
    evidence = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Recovery from the contractor, decided once when the funds are withdrawn.
    recovery_decided = models.BooleanField(default=False)
    recovery_shortfall = models.PositiveBigIntegerField(
        default=0, help_text="Owed by the contractor beyond what their transfer still held."
    )
    debits = models.ManyToManyField(ContractorDebit, blank=True, related_name="disputes")
    # Stripe's `created` of the newest event applied: an older one changes nothing.
    last_event_created = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payments_dispute_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_CODE),
                name="payments_dispute_currency_code",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_dispute_id

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.currency)

    @property
    def fee_display(self) -> str:
        return format_amount(self.fee_amount, self.fee_currency or self.currency)

    @property
    def is_open(self) -> bool:
        """Evidence can still be saved, submitted, or the dispute accepted."""
        return self.status in self.OPEN

    @property
    def reason_label(self) -> str:
        """Stripe's reason in words ("product_not_received" → "product not received")."""
        return self.reason.replace("_", " ") or "unspecified"


class DisputeAction(OutboxRow):
    """Work on a dispute that must reach Stripe: staff's evidence (saved as a draft or
    submitted), accepting the dispute, or giving a won dispute's money back to the
    contractor. A row per piece of work, *pending* until a task has done it
    (core/outbox.py), so a broker or Stripe outage delays it and never loses it; the
    row's id is the idempotency key.

    A row rather than status fields on Dispute: a dispute has several of these over
    its life (drafts, then a submission; a give-back per contractor), each with its
    own outcome, and Dispute.status stays Stripe's own.
    """

    class Kind(models.TextChoices):
        SAVE_DRAFT = "save_draft", "Save evidence draft"
        SUBMIT = "submit", "Submit evidence"
        ACCEPT = "accept", "Accept (close)"
        RETURN_FUNDS = "return_funds", "Give the contractor the money back"
        # A checkout's charge: our own reversal of the contractor's Transfer (see
        # payments/services/disputes.py for why not a ContractorDebit).
        REVERSE_TRANSFER = "reverse_transfer", "Take the disputed amount back"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Refused by Stripe"
        # A reversal the won dispute made unneeded before Stripe ever made it.
        CANCELED = "canceled", "Not needed: the dispute was won"

    TRANSITIONS = {
        Status.PENDING: frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED}),
        Status.SUCCEEDED: frozenset(),
        # Staff may retry a refused one from admin once its cause is fixed.
        Status.FAILED: frozenset({Status.PENDING}),
        Status.CANCELED: frozenset(),
    }

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # What is sent: the evidence for save_draft / submit.
    evidence = models.JSONField(default=dict, blank=True)
    # return_funds / reverse_transfer: whose money, and how much (a give-back's is fixed
    # once the recovery has settled).
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.PositiveBigIntegerField(default=0)
    stripe_object_id = models.CharField(max_length=255, blank=True, default="")
    refusals = models.PositiveIntegerField(default=0, help_text=REFUSALS_HELP)
    failure_message = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"], name="payments_disputeact_work_idx")]
        constraints = [
            # One give-back per contractor's order of a dispute.
            models.UniqueConstraint(
                fields=["dispute", "payment"],
                condition=models.Q(kind="return_funds"),
                name="payments_disputeact_one_return",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.dispute}"


# The install's identity (idempotency key prefixes) has a module of its own.
from payments.installation import Installation  # noqa: E402, F401
