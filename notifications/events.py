"""Who hears about which money event, and with what message.

Each function is called by the service that made the change, inside its
transaction, only when the status actually moved; the notification keys make a
second call for the same event a no-op anyway.
"""

from django.urls import reverse

from accounts.models import User
from accounts.requirements import disabled_reason_label
from core.money import format_amount

from .services import notify


def _order_context(order, payment=None) -> dict:
    return {
        "order": order,
        "short_id": str(order.public_id)[:8],
        "amount": format_amount(order.amount, order.currency),
        "fee": format_amount(order.fee_amount, order.currency),
        "net": format_amount(order.amount - order.fee_amount, order.currency),
        "seller_name": order.seller.profile.name,
        "payment": payment,
    }


def _buyer_link(order) -> str:
    return reverse("shop:order_detail", args=[order.public_id])


def _sales_link() -> str:
    return reverse("shop:sales_list")


def order_status_changed(order, payment, status: str) -> None:
    """Tell the buyer and the contractor what a new order status means for them."""
    context = _order_context(order, payment)
    key = str(order.pk)
    buyer_kind, seller_kind = {
        "authorized": ("order_receipt", "order_new"),
        "captured": ("order_charged", "order_paid"),
        "canceled": ("order_canceled", "order_canceled_seller"),
        "expired": ("order_expired", "order_expired_seller"),
    }.get(status, (None, None))
    if buyer_kind:
        notify(
            recipient=order.buyer,
            kind=buyer_kind,
            key=key,
            context=context,
            link=_buyer_link(order),
        )
    if seller_kind:
        notify(
            recipient=order.seller, kind=seller_kind, key=key, context=context, link=_sales_link()
        )


def payment_failed(order, payment, attempt: str) -> None:
    """A card was declined: tell the buyer why, once per attempt."""
    context = {**_order_context(order, payment), "reason": payment.last_error_message}
    notify(
        recipient=order.buyer,
        kind="payment_failed",
        key=f"{order.pk}:{attempt}",
        context=context,
        link=reverse("shop:checkout_pay", args=[order.checkout_id]),
    )


def refund_issued(refund) -> None:
    """Staff asked for a refund: nobody is told yet.

    The buyer hears once per refund, when Stripe confirms it (`refund_confirmed`): a
    refund Stripe refuses was never on its way, and two messages for one refund were
    one too many. Kept as the hook `refund_request` calls.
    """


def refund_confirmed(refund) -> None:
    order = refund.payment.order
    context = {**_order_context(order), "refund": format_amount(refund.amount, refund.currency)}
    notify(
        recipient=order.buyer,
        kind="refund_confirmed",
        key=str(refund.pk),
        context=context,
        link=_buyer_link(order),
    )
    notify(
        recipient=order.seller,
        kind="refund_confirmed_seller",
        key=str(refund.pk),
        context=context,
        link=_sales_link(),
    )


def debit_taken(debit) -> None:
    context = {"debit": debit, "amount": format_amount(debit.amount, debit.currency)}
    notify(
        recipient=debit.contractor,
        kind="debit_taken",
        key=str(debit.pk),
        context=context,
        link=reverse("accounts:dashboard"),
    )


def payout_changed(payout) -> None:
    kind = {"paid": "payout_paid", "failed": "payout_failed"}.get(payout.status)
    if kind:
        context = {"payout": payout, "amount": format_amount(payout.amount, payout.currency)}
        notify(
            recipient=payout.contractor,
            kind=kind,
            key=payout.stripe_id,
            context=context,
            link=reverse("accounts:dashboard"),
        )


def requirements_due(profile, due: list[str], labels: list[str]) -> None:
    """Stripe needs more from a contractor, or restricted their account.

    Only what is true is said: a contractor who has not started onboarding yet hears
    nothing (the dashboard and the sign-up email already ask them to set up payouts; a
    new connected account always has requirements), an enabled account is never
    called restricted, and an enabled account with nothing due hears nothing.
    """
    started = profile.details_submitted or profile.tos_accepted_at is not None
    restricted = not profile.charges_enabled
    if not started or not (due or restricted):
        return
    reason = (profile.requirements or {}).get("disabled_reason") if restricted else None
    context = {
        "profile": profile,
        "labels": labels,
        "restricted": restricted,
        "reason": disabled_reason_label(reason),
    }
    # One message per state: "restricted" and "needs more" for the same codes are
    # two different pieces of news.
    state = "restricted" if restricted else "due"
    notify(
        recipient=profile.user,
        kind="requirements_due",
        key=f"{state}:{','.join(sorted(due)) or reason or 'none'}",
        context=context,
        link=reverse("accounts:onboarding"),
    )


def dispute_opened(order, dispute: dict) -> None:
    """A buyer disputed a charge: every active staff member hears of it."""
    context = {
        **_order_context(order),
        "dispute_id": dispute.get("id", ""),
        "reason": dispute.get("reason") or "unspecified",
    }
    link = reverse("admin:shop_order_change", args=[order.pk])
    for staff in User.objects.filter(is_staff=True, is_active=True):
        notify(
            recipient=staff,
            kind="dispute_opened",
            key=str(dispute.get("id")),
            context=context,
            link=link,
        )
