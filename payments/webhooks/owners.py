"""Ownership checks for webhook routes: does the event's account own the object?

Each takes the stored event (its endpoint already checked by the route) and
returns why the event may not touch the object, or None. They only read.
"""

from accounts.models import UserProfile
from payments.models import Payment, Payout, StripeEvent

from .registry import source


def _object(event: StripeEvent) -> dict:
    return event.payload["data"]["object"]


def contractor_account(event: StripeEvent) -> str | None:
    """The event's connected account is one of our contractors'."""
    known = UserProfile.objects.filter(
        stripe_id=event.account, role=UserProfile.Role.CONTRACTOR
    ).exists()
    return None if known else f"ignored: {source(event)}: no contractor has this account"


def own_account(event: StripeEvent) -> str | None:
    """account.*: the account in the event is the account the event comes from."""
    account_id = _object(event).get("id")
    if account_id != event.account:
        return f"ignored: {source(event)} for account {account_id}"
    return contractor_account(event)


def _claimed_account(payout: dict) -> str | None:
    # A payout's destination is the connected account's bank account or card; expanded,
    # it names the account it belongs to.
    destination = payout.get("destination")
    if isinstance(destination, dict):
        return destination.get("account")
    if isinstance(destination, str) and destination.startswith("acct_"):
        return destination
    return None


def own_payout(event: StripeEvent) -> str | None:
    """payout.*: a contractor's account, paying out to itself, a payout not yet
    recorded for another account."""
    payout = _object(event)
    claimed = _claimed_account(payout)
    if claimed and claimed != event.account:
        return f"ignored: {source(event)} for payout {payout.get('id')} to {claimed}"
    recorded = (
        Payout.objects.filter(stripe_id=payout.get("id"))
        .exclude(account=event.account)
        .values_list("account", flat=True)
        .first()
    )
    if recorded is not None:
        return f"ignored: {source(event)} for payout {payout.get('id')} owned by {recorded}"
    return contractor_account(event)


def transfer_destination(event: StripeEvent) -> str | None:
    """transfer.*: the transfer pays the connected account of the payment it matches."""
    transfer = _object(event)
    charge = transfer.get("source_transaction")
    if not charge:
        return None  # matches no payment: the handler changes nothing
    destinations = set(
        Payment.objects.filter(stripe_charge_id=charge).values_list(
            "destination_account", flat=True
        )
    )
    if destinations and transfer.get("destination") not in destinations:
        return (
            f"ignored: transfer {transfer.get('id')} to {transfer.get('destination')}"
            f" for charge {charge} of a payment to {', '.join(sorted(destinations))}"
        )
    return None
