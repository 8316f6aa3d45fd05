"""Event handlers. Each is idempotent and never moves a status backwards.

Each registration names the endpoint its events are accepted from and the check
that the event's account owns the object (registry.py, owners.py): a handler runs
only for an event that passed both, so it may trust `event.account`.
"""

import logging

from accounts.models import UserProfile
from payments import gateway
from payments.models import Payment, StripeEvent
from payments.services.connect import payout_apply, profile_apply_account
from payments.services.disputes import dispute_apply
from payments.services.intents import payment_apply_intent
from payments.services.refunds import refund_apply, refunds_sync_for_charge
from payments.services.transfers import transfer_record

from . import owners
from .registry import CONNECT, PLATFORM, handles

logger = logging.getLogger(__name__)


def _object(event: StripeEvent) -> dict:
    return event.payload["data"]["object"]


# --- The platform's objects: destination charges are ours (merchant of record) ----------


@handles(
    "payment_intent.created",
    "payment_intent.requires_action",
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    endpoint=PLATFORM,
    kind="payment_intent",
)
def payment_intent_changed(event: StripeEvent) -> None:
    """Our Payment and Order follow the intent's snapshot (late ones are ignored)."""
    payment_apply_intent(_object(event))


@handles(
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "charge.dispute.closed",
    endpoint=PLATFORM,
    kind="dispute",
)
def dispute_changed(event: StripeEvent) -> None:
    """A buyer disputed one of our charges, or the dispute moved on: follow it, recover
    the money from the contractor, give it back if won (payments/services/disputes.py).
    The platform is the merchant of record, so disputes are platform events."""
    dispute_apply(_object(event), event_created=int(event.payload.get("created") or 0))


@handles(
    "transfer.created",
    "transfer.updated",
    "transfer.reversed",
    endpoint=PLATFORM,
    kind="transfer",
    owner=owners.transfer_destination,
)
def transfer_changed(event: StripeEvent) -> None:
    """Remember which transfer paid the contractor: one of ours (a checkout's charge,
    its row in the metadata), or the one Stripe made for a destination charge."""
    transfer = _object(event)
    if transfer_record(transfer) is not None:
        return
    charge = transfer.get("source_transaction")
    if charge:
        Payment.objects.filter(
            transfer_group="",
            stripe_charge_id=charge,
            stripe_transfer_id="",
            destination_account=transfer.get("destination") or "-",
        ).update(stripe_transfer_id=transfer["id"])


@handles(
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refund.updated",
    endpoint=PLATFORM,
    kind="refund",
)
def refund_changed(event: StripeEvent) -> None:
    """A refund's status moved (ours, or one made in Stripe's dashboard)."""
    refund_apply(_object(event))


@handles("charge.refunded", endpoint=PLATFORM, kind="charge")
def charge_refunded(event: StripeEvent) -> None:
    """The charge was (partly) refunded: record each of its refunds once."""
    refunds_sync_for_charge(_object(event))


# --- Connected accounts' objects: the event's account is the owner ---------------------


@handles("account.updated", endpoint=CONNECT, kind="account", owner=owners.own_account)
def account_updated(event: StripeEvent) -> None:
    """Capabilities and requirements changed: copy them to the contractor's profile.

    The snapshot may be stale when events arrive out of order, so the account is
    re-read from Stripe (a Connect object, read as the event's account).
    """
    profile_apply_account(gateway.account_retrieve(account=event.account))


@handles(
    "payout.created",
    "payout.updated",
    "payout.paid",
    "payout.failed",
    "payout.canceled",
    endpoint=CONNECT,
    kind="payout",
    owner=owners.own_payout,
)
def payout_changed(event: StripeEvent) -> None:
    """Record a connected account's payout, as the event's account's."""
    payout_apply(payout=_object(event), account=event.account)


@handles("balance.available", endpoint=CONNECT, kind="balance", owner=owners.contractor_account)
def balance_available(event: StripeEvent) -> None:
    """Pending funds became available: refresh the contractor's cached balance."""
    from payments.tasks import balance_refresh_task

    profile = UserProfile.objects.filter(stripe_id=event.account).first()
    if profile is not None:
        balance_refresh_task.delay(profile.user_id, True)
