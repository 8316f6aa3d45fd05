"""Read-only queries: whether a person's address is proven, and for contractors what
the dashboard page and the API show.

Every read is one function here; the pages and the API share them. None calls Stripe:
balances and payouts are our last copies, which webhooks and refreshes keep current.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from payments.models import (
    BalanceSnapshot,
    ContractorDebit,
    Dispute,
    DisputeAction,
    Payment,
    Payout,
    PayoutRequest,
    PayoutSchedule,
    Transfer,
)
from shop.models import Order

from . import payout_outlook
from .models import User
from .payout_outlook import PayoutOutlook

# Orders whose money reached (and may have partly left) the contractor.
EARNING_STATUSES = [
    Order.Status.CAPTURED,
    Order.Status.PARTIALLY_REFUNDED,
    Order.Status.REFUNDED,
]
# How many payouts, transfers and debits the dashboard lists.
RECENT = 10


@dataclass(frozen=True)
class SalesAttention:
    awaiting: int  # authorised orders waiting for the contractor to fulfil them
    flagged: int  # orders staff or the system flagged


def email_verified(user) -> bool:
    """Whether `user` proved their email address (used a link we emailed to it).

    A buyer's checkout and a contractor's onboarding require it; where it is False,
    send them to `accounts:email_verify` (with `?next=`), which says why and sends
    the link. Anonymous users have no address to prove: False.
    """
    return bool(getattr(user, "is_authenticated", False) and user.email_verified_at)


def can_shop(user) -> bool:
    """Whether `user` may fill a cart and check out: visitors may (they log in to pay);
    of accounts, only buyers. Contractors sell, and staff run the shop."""
    if user is None or not user.is_authenticated:
        return True
    profile = getattr(user, "profile", None)
    return profile is not None and profile.is_buyer


def balance_list(*, contractor: User) -> list[BalanceSnapshot]:
    """The contractor's last-read Stripe balances, one per currency."""
    return list(BalanceSnapshot.objects.filter(contractor=contractor).order_by("currency"))


def payout_list(*, contractor: User, limit: int = RECENT) -> QuerySet[Payout]:
    """The contractor's newest payouts."""
    return Payout.objects.filter(contractor=contractor)[:limit]


def payout_outlook_get(*, contractor: User, now: datetime | None = None) -> PayoutOutlook:
    """The contractor's payout schedule, next expected payouts and what "Pay out now"
    may take, from our copies (see accounts/payout_outlook.py)."""
    from payments.services.payouts import payout_spendable  # a read: no Stripe call

    profile = getattr(contractor, "profile", None)
    account = getattr(profile, "stripe_id", "")
    schedule = PayoutSchedule.objects.filter(account=account).first() if account else None
    balances = balance_list(contractor=contractor)
    spendable = {
        b.currency: payout_spendable(account=account, currency=b.currency) for b in balances
    }
    return payout_outlook.outlook(schedule, balances, now or timezone.now(), spendable)


def payout_request_open_list(*, contractor: User) -> QuerySet[PayoutRequest]:
    """The contractor's "Pay out now" requests not sent to Stripe yet."""
    return PayoutRequest.objects.filter(
        contractor=contractor, status=PayoutRequest.Status.REQUESTED
    )


def payout_history(*, contractor: User, limit: int = RECENT) -> list[tuple[Payout, object]]:
    """The contractor's newest payouts, each with why it failed and what to do (or None)."""
    return [
        (payout, payout_outlook.explain_failure(payout))
        for payout in payout_list(contractor=contractor, limit=limit)
    ]


def transfer_list(*, contractor: User, limit: int = RECENT) -> QuerySet[Payment]:
    """The contractor's newest payments that sent them a Stripe transfer."""
    return (
        Payment.objects.filter(order__seller=contractor)
        .exclude(stripe_transfer_id="")
        .select_related("order")[:limit]
    )


@dataclass(frozen=True)
class MoneyTakenOrGiven:
    """A line of the dashboard's "Debits and disputes": money taken from the
    contractor (a debit, or a dispute's reversal of a checkout's transfer) or given
    back (a won dispute)."""

    created_at: datetime
    reason: str
    amount: int  # negative: taken; positive: given back
    currency: str
    status: str
    failure_message: str = ""


def debit_list(*, contractor: User, limit: int = RECENT) -> list[MoneyTakenOrGiven]:
    """The contractor's newest debits (penalties, recovered disputes), and what
    disputes took back from or gave back to them, newest first."""
    rows = [
        MoneyTakenOrGiven(
            d.created_at, d.reason, -d.amount, d.currency, d.get_status_display(), d.failure_message
        )
        for d in ContractorDebit.objects.filter(contractor=contractor)[:limit]
    ]
    actions = DisputeAction.objects.filter(
        payment__order__seller=contractor,
        kind__in=[DisputeAction.Kind.REVERSE_TRANSFER, DisputeAction.Kind.RETURN_FUNDS],
    ).select_related("dispute", "payment")
    for action in actions.order_by("-created_at")[:limit]:
        dispute = action.dispute
        taken = action.kind == DisputeAction.Kind.REVERSE_TRANSFER
        what = "disputed amount taken back" if taken else "won: given back"
        if not taken and action.status == DisputeAction.Status.PENDING:
            continue  # the amount is known once it is sent
        rows.append(
            MoneyTakenOrGiven(
                action.created_at,
                f"Dispute {dispute.stripe_dispute_id} ({dispute.reason_label}): {what}",
                -action.amount if taken else action.amount,
                action.payment.currency if action.payment else dispute.currency,
                action.get_status_display(),
                action.failure_message,
            )
        )
    return sorted(rows, key=lambda row: row.created_at, reverse=True)[:limit]


def earning_list(*, contractor: User) -> list[dict]:
    """Per currency: gross, platform fees, net, number of paid orders and refunded amount."""
    totals = (
        Order.objects.filter(seller=contractor, status__in=EARNING_STATUSES)
        .values("currency")
        .annotate(gross=Sum("amount"), fees=Sum("fee_amount"), count=Count("id"))
    )
    refunded = (
        Payment.objects.filter(order__seller=contractor)
        .values("currency")
        .annotate(refunded=Sum("amount_refunded"))
    )
    refunded_by_currency = {row["currency"]: row["refunded"] or 0 for row in refunded}
    disputed = _disputed_by_currency(contractor)
    return [
        {
            **row,
            "net": row["gross"] - row["fees"],
            "refunded": refunded_by_currency.get(row["currency"], 0),
            # Shown as a deduction: what disputes took back and kept (negative).
            "disputed": -disputed.get(row["currency"], 0),
        }
        for row in totals
    ]


def _disputed_by_currency(contractor: User) -> dict[str, int]:
    """What disputes took back from the contractor and kept, per currency: their
    debits and the reversals of their transfers, less what won disputes gave back."""
    totals: dict[str, int] = {}
    of_disputes = Dispute.debits.through.objects.values("contractordebit_id")
    debits = (
        ContractorDebit.objects.filter(
            contractor=contractor,
            pk__in=of_disputes,  # a subquery, not a join: a debit counts once
            status=ContractorDebit.Status.SUCCEEDED,
        )
        .values("currency")
        .annotate(total=Sum("amount"))
    )
    for row in debits:
        totals[row["currency"]] = totals.get(row["currency"], 0) + row["total"]
    actions = (
        DisputeAction.objects.filter(
            payment__order__seller=contractor, status=DisputeAction.Status.SUCCEEDED
        )
        .values("kind", "payment__currency")
        .annotate(total=Sum("amount"))
    )
    for row in actions:
        sign = {DisputeAction.Kind.REVERSE_TRANSFER: 1, DisputeAction.Kind.RETURN_FUNDS: -1}
        currency = row["payment__currency"]
        totals[currency] = totals.get(currency, 0) + sign.get(row["kind"], 0) * row["total"]
    # What a lost dispute kept off a transfer before it was sent (never reversed).
    withheld = (
        Transfer.objects.filter(payment__order__seller=contractor, withheld__gt=0)
        .values("currency")
        .annotate(total=Sum("withheld"))
    )
    for row in withheld:
        totals[row["currency"]] = totals.get(row["currency"], 0) + row["total"]
    return totals


def sales_attention_get(*, contractor: User) -> SalesAttention:
    """How many of the contractor's sales wait for fulfilment, and how many are flagged."""
    sales = Order.objects.filter(seller=contractor)
    return SalesAttention(
        awaiting=sales.filter(status=Order.Status.AUTHORIZED).count(),
        flagged=sales.filter(flagged=True).count(),
    )
