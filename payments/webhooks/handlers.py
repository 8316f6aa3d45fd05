"""Event handlers. Each is idempotent and never moves a status backwards."""

import logging

from accounts.models import UserProfile
from notifications import events as notify
from payments import gateway
from payments.models import Payment
from payments.services.connect import payout_apply, profile_apply_account
from payments.services.intents import order_flag, payment_apply_intent
from payments.services.refunds import refund_apply, refunds_sync_for_charge

from .registry import handles

logger = logging.getLogger(__name__)


@handles(
    "payment_intent.created",
    "payment_intent.requires_action",
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
)
def payment_intent_changed(event: dict) -> None:
    """Our Payment and Order follow the intent's snapshot (late ones are ignored)."""
    payment_apply_intent(event["data"]["object"])


@handles("charge.dispute.created")
def dispute_created(event: dict) -> None:
    """A buyer disputed a charge: flag the order for staff."""
    dispute = event["data"]["object"]
    payment = (
        Payment.objects.filter(stripe_payment_intent_id=dispute.get("payment_intent")).first()
        or Payment.objects.filter(stripe_charge_id=dispute.get("charge")).first()
    )
    if payment is None:
        logger.warning("Dispute %s for an unknown charge", dispute.get("id"))
        return
    reason = dispute.get("reason") or "unspecified"
    order_flag(order_id=payment.order_id, reason=f"Dispute opened ({reason})")
    notify.dispute_opened(payment.order, dispute)


@handles("account.updated")
def account_updated(event: dict) -> None:
    """Capabilities and requirements changed: copy them to the contractor's profile.

    The snapshot may be stale when events arrive out of order, so the account is
    re-read from Stripe (a Connect object, read with its own account id).
    """
    account = event["data"]["object"]
    profile_apply_account(gateway.account_retrieve(account=account["id"]))


@handles(
    "payout.created",
    "payout.updated",
    "payout.paid",
    "payout.failed",
    "payout.canceled",
)
def payout_changed(event: dict) -> None:
    """Record a connected account's payout (Connect endpoint: the event names the account)."""
    if event.get("account"):
        payout_apply(payout=event["data"]["object"], account=event["account"])


@handles("balance.available")
def balance_available(event: dict) -> None:
    """Pending funds became available: refresh the contractor's cached balance."""
    from payments.tasks import balance_refresh_task

    profile = UserProfile.objects.filter(stripe_id=event.get("account") or "-").first()
    if profile is not None:
        balance_refresh_task.delay(profile.user_id, True)


@handles("transfer.created", "transfer.updated", "transfer.reversed")
def transfer_changed(event: dict) -> None:
    """Remember which transfer paid the contractor for a destination charge."""
    transfer = event["data"]["object"]
    charge = transfer.get("source_transaction")
    if charge:
        Payment.objects.filter(stripe_charge_id=charge, stripe_transfer_id="").update(
            stripe_transfer_id=transfer["id"]
        )


@handles("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
def refund_changed(event: dict) -> None:
    """A refund's status moved (ours, or one made in Stripe's dashboard)."""
    refund_apply(event["data"]["object"])


@handles("charge.refunded")
def charge_refunded(event: dict) -> None:
    """The charge was (partly) refunded: record each of its refunds once."""
    refunds_sync_for_charge(event["data"]["object"])
