"""Who hears about which money event, and with what message.

Each function is called by the service that made the change, inside its
transaction, only when the status actually moved; the notification keys make a
second call for the same event a no-op anyway.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
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


@dataclass(frozen=True)
class EmailItem:
    """An order line as an email shows it; `photo` is an absolute address, or ""."""

    quantity: int
    title: str
    photo: str
    alt: str


def _order_items(order) -> list[EmailItem]:
    """The order's lines with their product's first thumbnail (`Product.cover`), in two
    queries. A mail client has no page to resolve a path against, so the storage's
    address is made absolute with SITE_URL (unchanged when it already has a host, e.g.
    a CDN's MEDIA_URL)."""
    from shop.selectors import items_with_covers

    items_with_covers([order])
    items = []
    for item in order.items.all():
        cover = item.product.cover if item.product else None
        items.append(
            EmailItem(
                quantity=item.quantity,
                title=item.title,
                photo=urljoin(settings.SITE_URL, cover.url) if cover else "",
                alt=(cover.alt if cover else "") or item.title,
            )
        )
    return items


def _buyer_link(order) -> str:
    return reverse("shop:order_detail", args=[order.public_id])


def _sales_link() -> str:
    return reverse("shop:sales_list")


def order_status_changed(order, payment, status: str) -> None:
    """Tell the buyer and the contractor what a new order status means for them."""
    context = _order_context(order, payment)
    if status in ("authorized", "captured"):
        context["items"] = _order_items(order)  # the receipt and the new-order notice list them
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
    from accounts.payout_outlook import explain_failure

    kind = {"paid": "payout_paid", "failed": "payout_failed"}.get(payout.status)
    if kind:
        context = {
            "payout": payout,
            "amount": format_amount(payout.amount, payout.currency),
            "failure": explain_failure(payout),  # why, and what to do (the dashboard's words)
        }
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
    restricted = not profile.charges_enabled
    if not profile.onboarding_started or not (due or restricted):
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


def charges_enabled(profile) -> None:
    """Stripe enabled a contractor's account: they can sell (again). Once per time it
    happens, as each time is news (a first verification, or a restriction lifted)."""
    notify(
        recipient=profile.user,
        kind="charges_enabled",
        key=f"{profile.stripe_id}:{profile.updated_at.isoformat()}",
        context={"profile": profile},
        link=reverse("shop:seller_products"),
    )


# --- Disputes: who hears of each step, and what it means for them --------------------

# step → {audience: (headline, message)}; "{…}" are filled from the dispute's context.
DISPUTE_MESSAGES = {
    "opened": {
        "buyer": (
            "Your bank disputed order {short_id}",
            "Your bank told us it disputes the payment of {amount} ({reason}). We answer"
            " it with the order's facts; your bank decides and tells you the outcome.",
        ),
        "seller": (
            "A buyer disputed order {short_id}",
            "The buyer's bank disputed the payment of {amount} ({reason}). We answer it"
            " with the order's facts by {due_by}. {while_decided}",
        ),
        "staff": (
            "Dispute opened for order {short_id}",
            "The buyer's bank disputed {amount} ({reason}). Evidence is due by {due_by}.",
        ),
    },
    "funds_withdrawn": {
        "seller": (
            "Disputed amount held back for order {short_id}",
            "The bank took {amount} back while the dispute is decided. {while_decided}",
        ),
        "staff": (
            "Dispute funds withdrawn for order {short_id}",
            "Stripe withdrew {amount} and a fee of {fee}. Evidence is due by {due_by}.",
        ),
    },
    "submitted": {
        "seller": (
            "Evidence sent for order {short_id}",
            "We sent the bank our evidence for the disputed payment of {amount}.",
        ),
        "staff": (
            "Evidence submitted for order {short_id}",
            "The evidence for dispute {dispute_id} ({amount}) went to the bank.",
        ),
    },
    "won": {
        "buyer": (
            "Your dispute of order {short_id} is closed",
            "Your bank decided the dispute of {amount} in the seller's favour.",
        ),
        "seller": (
            "Dispute won for order {short_id}",
            "The bank decided in our favour: what was taken back for it comes back to you.",
        ),
        "staff": ("Dispute won for order {short_id}", "Dispute {dispute_id} ({amount}) won."),
    },
    "lost": {
        "buyer": (
            "Your dispute of order {short_id} is closed",
            "Your bank decided the dispute of {amount} in your favour.",
        ),
        "seller": (
            "Dispute lost for order {short_id}",
            "The bank decided for the buyer. {when_lost}",
        ),
        "staff": ("Dispute lost for order {short_id}", "Dispute {dispute_id} ({amount}) lost."),
    },
    "prevented": {
        "seller": (
            "Dispute of order {short_id} prevented",
            "The buyer's bank dropped its dispute of {amount}: it will not become a chargeback.",
        ),
        "staff": ("Dispute prevented for order {short_id}", "Dispute {dispute_id} prevented."),
    },
    "warning_closed": {
        "seller": (
            "Inquiry closed for order {short_id}",
            "The bank's inquiry about the payment of {amount} is closed without a dispute.",
        ),
        "staff": ("Inquiry closed for order {short_id}", "Inquiry {dispute_id} closed."),
    },
}


def _dispute_context(dispute, order=None, amount: int | None = None) -> dict:
    """The dispute's facts for one order it concerns (by default its first): a
    checkout's charge pays several orders, each contractor hears of their own."""
    order = order or dispute.order
    due = dispute.due_by.strftime("%Y-%m-%d %H:%M UTC") if dispute.due_by else "the deadline"
    return {
        **_order_context(order),
        "dispute": dispute,
        "dispute_id": dispute.stripe_dispute_id,
        "reason": dispute.reason_label,
        "amount": format_amount(dispute.amount if amount is None else amount, dispute.currency),
        "fee": format_amount(dispute.fee_amount, dispute.fee_currency or dispute.currency),
        "due_by": due,
        **_recovery_words(),
    }


def _recovery_words() -> dict[str, str]:
    """What a dispute means for the contractor's money, by DISPUTE_RECOVERY."""
    from payments.services.disputes import recovery_policy

    if recovery_policy() == "none":
        nothing = "The platform bears it: nothing is taken from what you are paid."
        return {"while_decided": nothing, "when_lost": nothing}
    return {
        "while_decided": "While the bank decides, your share of it is taken back from your"
        " payment for the order (or that payment waits, if it was not sent yet); you get"
        " it back if we win.",
        "when_lost": "Your share of the disputed amount stays taken back.",
    }


def _dispute_audiences(dispute) -> Iterator[tuple[str, User, dict, str]]:
    """(audience, person, context, link) for everyone a dispute concerns: the buyer,
    each contractor the charge paid (with their order and their share of the disputed
    amount), and active staff."""
    from payments.services.disputes import payments_of, shares

    order = dispute.order
    yield "buyer", order.buyer, _dispute_context(dispute), _buyer_link(order)
    payments = payments_of(dispute.stripe_charge_id) or [dispute.payment]
    for payment, share in zip(payments, shares(dispute.amount, payments), strict=True):
        own = payment.order
        link = reverse("shop:sale_detail", args=[own.public_id])
        yield "seller", own.seller, _dispute_context(dispute, own, share), link
    staff_link = reverse("admin:payments_dispute_change", args=[dispute.pk])
    for person in User.objects.filter(is_staff=True, is_active=True):
        yield "staff", person, _dispute_context(dispute), staff_link


def dispute_changed(dispute, step: str) -> None:
    """A dispute took a step (opened, funds withdrawn, evidence submitted, won, lost,
    inquiry closed): each person it concerns hears once per step."""
    messages = DISPUTE_MESSAGES.get(step, {})
    for audience, person, context, link in _dispute_audiences(dispute):
        if audience not in messages:
            continue
        headline, message = messages[audience]
        text = {"headline": headline.format(**context), "message": message.format(**context)}
        notify(
            recipient=person,
            kind=f"dispute_{audience}",
            key=f"{dispute.stripe_dispute_id}:{step}",
            context={**context, **text},
            link=link,
        )


def dispute_action_failed(action) -> None:
    """Stripe refused staff's answer to a dispute (or a give-back): staff must act."""
    dispute = action.dispute
    context = _dispute_context(dispute)
    text = {
        "headline": f"Stripe refused: {action.get_kind_display()} ({dispute.stripe_dispute_id})",
        "message": action.failure_message,
    }
    for person in User.objects.filter(is_staff=True, is_active=True):
        notify(
            recipient=person,
            kind="dispute_staff",
            key=f"{dispute.stripe_dispute_id}:action-{action.pk}-failed",
            context={**context, **text},
            link=reverse("admin:payments_dispute_change", args=[dispute.pk]),
        )


def dispute_funds_returned(action) -> None:
    """A won dispute's money went back to the contractor of the order it was taken from."""
    dispute = action.dispute
    order = action.payment.order
    context = _dispute_context(dispute, order)
    returned = format_amount(action.amount, dispute.currency)
    text = {
        "headline": f"{returned} back for order {context['short_id']}",
        "message": f"The dispute was won: the {returned} taken back for it is yours again.",
    }
    notify(
        recipient=order.seller,
        kind="dispute_seller",
        key=f"{dispute.stripe_dispute_id}:returned-{action.pk}",
        context={**context, **text},
        link=reverse("shop:sale_detail", args=[order.public_id]),
    )


def payout_request_refused(request) -> None:
    """Stripe refused a contractor's "Pay out now" after the click (it runs in a task)."""
    notify(
        recipient=request.contractor,
        kind="payout_request_refused",
        key=str(request.pk),
        context={"request": request, "amount": format_amount(request.amount, request.currency)},
        link=reverse("accounts:dashboard"),
    )


def order_tracking_changed(order) -> None:
    """The contractor added or corrected the carrier or tracking number of a fulfilled
    order (shop.tracking): the buyer hears of each change. Keyed by the change's time,
    so a correction back to an earlier number is news too."""
    notify(
        recipient=order.buyer,
        kind="order_tracking",
        key=f"{order.pk}:{order.updated_at.isoformat()}",
        context=_order_context(order),
        link=_buyer_link(order),
    )
