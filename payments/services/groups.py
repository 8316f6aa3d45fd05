"""Checkouts of several contractors paid as one platform charge ("separate charges
and transfers"): one PaymentIntent on the platform for the whole checkout, its
`transfer_group` the checkout id, shared by the orders' Payment rows. The buyer
authenticates once; each contractor is paid by a Transfer of their own when *their*
order is fulfilled (payments/services/transfers.py).

- **Authorised**: one confirmation authorises every order of the checkout.
- **Captured** at the first fulfilment (or staff capture), once, for every order
  still on: the fulfilled order is paid (its transfer asked for) and the others'
  money is held by the platform until they are fulfilled, paid at once then.
- **One order canceled**: not paid yet → the intent's amount is lowered; authorised
  and not captured → it is left out of the capture (its hold goes with the rest);
  captured and held → its part is refunded to the buyer. The last order of the
  checkout to go cancels the intent.

Every decision about the rows of one intent is taken with all of them locked, in id
order, and the capture decides its amount from the rows still on: once a capture is
asked, no order can leave the checkout's authorisation any more, only be refunded
after the capture. So the captured amount is always exactly the orders it marks
captured or held.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from core import outbox
from core.commit import after_commit
from core.metrics import MONEY_OPERATIONS
from core.statemachine import InvalidTransition, transition, transition_locked
from notifications import events as notify
from payments import gateway
from payments.models import Payment, Refund
from shop.models import Order
from shop.shipping import order_shipping

from .waits import NotYet

logger = logging.getLogger(__name__)

# A row in one of these is still part of its checkout's payment.
LIVE = frozenset(
    {Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION, Payment.Status.AUTHORIZED}
)
UNPAID = frozenset({Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION})
# Stripe's largest card charge (two-decimal currencies): a bigger checkout pays per order.
MAX_CHARGE_AMOUNT = 99_999_999


def rows_locked(intent_id: str) -> list[Payment]:
    """The rows sharing an intent, locked, in id order (inside a transaction)."""
    return list(
        Payment.objects.select_for_update()
        .filter(stripe_payment_intent_id=intent_id)
        .order_by("pk")
    )


def rows_of(intent_id: str) -> list[Payment]:
    return list(Payment.objects.filter(stripe_payment_intent_id=intent_id).order_by("pk"))


def lead_of(rows: list[Payment]) -> Payment:
    """The row whose id names the intent's idempotency keys (its lowest)."""
    return min(rows, key=lambda row: row.pk)


# --- Creation ------------------------------------------------------------------------


def new_groups(payments: Iterable[Payment]) -> dict[int, list[Payment]]:
    """{lead id: rows} for the checkouts among `payments` that become one platform
    charge now: two orders or more awaiting a card, none with an intent yet.

    A checkout already paid per order (a PaymentIntent per order, as before issue #16)
    stays so. Its rows are read from the database, whichever of them were asked for:
    the checkout is one payment, from the pay page or from one order's page.
    """
    checkouts = {p.order.checkout_id for p in payments if not p.stripe_payment_intent_id}
    groups: dict[int, list[Payment]] = {}
    for checkout_id in checkouts:
        rows = list(
            Payment.objects.select_related("order")
            .filter(order__checkout_id=checkout_id)
            .order_by("order_id", "-created_at", "-pk")
        )
        if any(row.stripe_payment_intent_id for row in rows):
            continue
        newest: dict[int, Payment] = {}
        for row in rows:
            newest.setdefault(row.order_id, row)
        payable = sorted(
            (
                row
                for row in newest.values()
                if row.status == Payment.Status.PENDING
                and row.order.status in (Order.Status.PENDING, Order.Status.FAILED)
            ),
            key=lambda row: row.pk,
        )
        if (
            len(payable) >= 2
            and len({row.currency for row in payable}) == 1
            and sum(row.amount for row in payable) <= MAX_CHARGE_AMOUNT
        ):
            groups[payable[0].pk] = payable
    return groups


def group_intent_create(rows: list[Payment], customer: str) -> dict:
    """The checkout's platform PaymentIntent, keyed by its lead row (Stripe call)."""
    lead = lead_of(rows)
    checkout_id = str(lead.order.checkout_id)
    # One address per checkout: every order of it that ships has the same one.
    shipping = next(filter(None, (order_shipping(row.order) for row in rows)), None)
    return gateway.platform_payment_intent_create(
        amount=sum(row.amount for row in rows),
        currency=lead.currency,
        customer=customer,
        transfer_group=checkout_id,
        checkout_id=checkout_id,
        order_ids=[row.order_id for row in rows],
        idempotency_key=f"payment-{lead.pk}-intent",
        **({"shipping": shipping} if shipping else {}),
    )


def group_intent_record(rows: list[Payment], intent: dict) -> None:
    """Every row of the group shares the intent from now on."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().filter(pk__in=[r.pk for r in rows])
        for row in locked.order_by("pk"):
            if not row.stripe_payment_intent_id:
                row.stripe_payment_intent_id = intent["id"]
                row.transfer_group = intent.get("transfer_group") or str(row.order.checkout_id)
                row.save(update_fields=["stripe_payment_intent_id", "transfer_group", "updated_at"])


# --- Following the intent ------------------------------------------------------------


def _orders_locked(rows: list[Payment]) -> dict[int, Order]:
    orders = (
        Order.objects.select_for_update(of=("self",))
        .select_related("seller__profile", "buyer")
        .filter(pk__in=[row.order_id for row in rows])
        .order_by("pk")
    )
    return {order.pk: order for order in orders}


def _order_move(order: Order, payment: Payment, status: str) -> None:
    if transition_locked(order, status, may_be_late=True):
        after_commit(notify.order_status_changed, order, payment, status)


def group_apply(rows: list[Payment], intent: dict) -> Payment:
    """Bring the (locked) rows of a checkout's intent, and their orders, in line with
    a snapshot of it; see `payments.services.intents.payment_apply_intent`."""
    from .intents import EXPIRY_REASONS

    status = intent["status"]
    if status == "requires_payment_method":
        _declined(rows, intent)
    elif status == "requires_action":
        for row in rows:
            if row.status == Payment.Status.PENDING:
                transition_locked(row, Payment.Status.REQUIRES_ACTION, may_be_late=True)
    elif status == "requires_capture":
        _authorized(rows, intent)
    elif status == "succeeded":
        _captured(rows, intent)
    elif status == "canceled":
        expired = intent.get("cancellation_reason") in EXPIRY_REASONS
        _canceled(rows, Order.Status.EXPIRED if expired else Order.Status.CANCELED)
    return lead_of(rows)


def _declined(rows: list[Payment], intent: dict) -> None:
    from .intents import _charge_id, _decline_attempt

    error = intent.get("last_payment_error")
    if not error:
        return  # a fresh intent, still waiting for its first card
    code, decline_code = error.get("code") or "", error.get("decline_code") or ""
    changes = {
        "last_error_code": decline_code or code or "card_declined",
        "last_error_message": gateway.decline_message(code, decline_code),
        # A new attempt fails a charge of its own (see Payment.last_error_charge).
        "last_error_charge": error.get("charge") or _charge_id(intent),
    }
    waiting = [row for row in rows if row.status in UNPAID]
    orders = _orders_locked(waiting)
    for row in waiting:
        transition_locked(row, Payment.Status.PENDING, changes=changes, may_be_late=True)
        transition_locked(orders[row.order_id], Order.Status.FAILED, may_be_late=True)
    if waiting:
        # One card, one decline: the buyer is told once, on the checkout's first order.
        first = waiting[0]
        after_commit(notify.payment_failed, orders[first.order_id], first, _decline_attempt(intent))


def _authorized(rows: list[Payment], intent: dict) -> None:
    from .intents import _capture_before, _charge_id

    waiting = [row for row in rows if row.status in UNPAID]
    orders = _orders_locked(waiting)
    now = timezone.now()
    for row in waiting:
        changes = {
            "amount_authorized": row.amount,
            "authorized_at": row.authorized_at or now,
            "capture_before": _capture_before(intent, row),
            "last_error_code": "",
            "last_error_message": "",
        }
        if _charge_id(intent):
            changes["stripe_charge_id"] = _charge_id(intent)
        if transition_locked(row, Payment.Status.AUTHORIZED, changes=changes, may_be_late=True):
            _order_move(orders[row.order_id], row, Order.Status.AUTHORIZED)


def _captured(rows: list[Payment], intent: dict) -> None:
    """The charge was captured for every row still on: those whose capture was asked
    (fulfilled) are paid, the others held by the platform until they are."""
    from .intents import _charge_id, order_flag
    from .transfers import transfer_ask

    live = [row for row in rows if row.status in LIVE]
    orders = _orders_locked(live)
    now = timezone.now()
    for row in live:
        changes = {
            "amount_authorized": row.amount,
            "amount_captured": row.amount,
            "authorized_at": row.authorized_at or now,
            "capture_before": None,
            "stripe_charge_id": _charge_id(intent) or row.stripe_charge_id,
            "last_error_code": "",
            "last_error_message": "",
        }
        if row.action == Payment.Action.CAPTURE:
            transition_locked(row, Payment.Status.CAPTURED, changes=changes)
            _order_move(orders[row.order_id], row, Order.Status.CAPTURED)
            transfer_ask(row)
        elif row.status == Payment.Status.AUTHORIZED:
            _save_changes(row, changes)  # still this order's: held now, not on the card
        else:
            transition_locked(row, Payment.Status.AUTHORIZED, changes=changes)
            _order_move(orders[row.order_id], row, Order.Status.AUTHORIZED)
    held = sum(row.amount_captured for row in rows)
    if held != intent.get("amount_received"):
        # Never expected (see the module's docstring): staff must see it.
        order_flag(
            order_id=lead_of(rows).order_id,
            reason=f"Checkout charge captured {intent.get('amount_received')}, "
            f"its orders hold {held}.",
        )


def _save_changes(row: Payment, changes: dict) -> None:
    fields = [name for name, value in changes.items() if getattr(row, name) != value]
    for name in fields:
        setattr(row, name, changes[name])
    if fields:
        row.save(update_fields=[*fields, "updated_at"])


def _canceled(rows: list[Payment], order_status: str) -> None:
    live = [row for row in rows if row.status in LIVE]
    orders = _orders_locked(live)
    for row in live:
        transition_locked(row, Payment.Status.CANCELED)
        _order_move(orders[row.order_id], row, order_status)


# --- Capture -------------------------------------------------------------------------


def held_capture(row: Payment) -> None:
    """(Group locked, inside a transaction) An order whose money the platform already
    holds was fulfilled (or staff captured it): it is paid now, its transfer asked for."""
    from .transfers import transfer_ask

    transition_locked(row, Payment.Status.CAPTURED)
    order, moved = transition(Order, row.order_id, Order.Status.CAPTURED, may_be_late=True)
    if moved:
        after_commit(notify.order_status_changed, order, row, Order.Status.CAPTURED)
    transfer_ask(row)


def group_capture(payment: Payment) -> Payment:
    """Capture the checkout's charge because `payment`'s order was fulfilled: once,
    for every order still on, with the lead row's key and the amount, so the captures
    asked by two fulfilments at once are one at Stripe."""
    from .intents import _action_done, order_flag, payment_apply_intent

    intent_id = payment.stripe_payment_intent_id or ""
    rows = rows_of(intent_id)
    if payment.amount_captured:
        with transaction.atomic():
            row = next(r for r in rows_locked(intent_id) if r.pk == payment.pk)
            if row.status == Payment.Status.AUTHORIZED:
                held_capture(row)
            _action_done(row)
        return row
    live = [row for row in rows if row.status in LIVE]
    authorised = sum(row.amount_authorized for row in rows)
    total = sum(row.amount for row in live)
    try:
        intent = gateway.payment_intent_capture(
            payment_intent=intent_id,
            # The amount is in the key: orders leave the checkout between two asks (a
            # refused capture, then a cancellation), and Stripe answers a key it has
            # seen with other parameters with idempotency_error, never a capture.
            idempotency_key=f"payment-{lead_of(rows).pk}-capture-{total}",
            amount_to_capture=total if total < authorised else None,
            platform_charge=True,
        )
    except (gateway.CardDeclined, gateway.GatewayRejected) as exc:
        intent = gateway.payment_intent_retrieve(payment_intent=intent_id)
        with transaction.atomic():
            payment_apply_intent(intent)
            Payment.objects.filter(pk=payment.pk).update(
                last_error_code=getattr(exc, "code", "") or "capture_failed",
                last_error_message=str(exc)[:1000],
            )
            _action_done(payment)
            order_flag(order_id=payment.order_id, reason=f"Capture failed: {exc}")
        MONEY_OPERATIONS.labels("capture", "failed").inc()
        payment.refresh_from_db()
        return payment
    MONEY_OPERATIONS.labels("capture", "succeeded").inc()
    with transaction.atomic():
        payment_apply_intent(intent)
        _action_done(payment)
    payment.refresh_from_db()
    return payment


def capture_request(payment_id: int) -> bool | None:
    """(Inside the caller's transaction) `payment_capture_request` for a row of a
    checkout's charge: paid at once when the platform already holds its money; None
    when the capture must be asked as for any payment (the charge is not captured)."""
    payment = Payment.objects.get(pk=payment_id)
    rows = rows_locked(payment.stripe_payment_intent_id or "")
    row = next(r for r in rows if r.pk == payment_id)
    if row.status != Payment.Status.AUTHORIZED:
        return False
    if row.amount_captured:
        held_capture(row)
        return True
    return None


# --- Cancellation of one order --------------------------------------------------------


def group_cancel(payment: Payment, reason: str) -> Payment:
    """Take one order out of its checkout's charge (see the module's docstring)."""
    from .intents import _action_done

    if payment.status not in LIVE:
        _action_done(payment)
        if payment.status != Payment.Status.CANCELED:
            raise InvalidTransition("Payment", payment.status, Payment.Status.CANCELED)
        return payment
    intent_id = payment.stripe_payment_intent_id or ""
    with transaction.atomic():
        rows = rows_locked(intent_id)
        row = next(r for r in rows if r.pk == payment.pk)
        if row.status not in LIVE:
            _action_done(row)  # it moved on meanwhile (captured, canceled): nothing to do
            return row
        others = [
            r
            for r in rows
            if r.pk != row.pk and r.status in LIVE and r.action != Payment.Action.CANCEL
        ]
        if row.amount_captured:
            _release(row, reason)
            return row
        if any(r.action == Payment.Action.CAPTURE for r in rows if r.pk != row.pk):
            raise NotYet("the checkout's charge is being captured: this part is refunded after")
        captured = any(r.status == Payment.Status.CAPTURED or r.amount_captured for r in rows)
        if captured or (others and row.status == Payment.Status.AUTHORIZED):
            # Not in the capture: its hold is released with the rest of the charge's.
            _leave(row, reason)
            return row
        lowered = sum(r.amount for r in others)
    if not others:
        return _intent_cancel(payment, lead_of(rows), reason)
    return _amount_lower(payment, lead_of(rows), lowered, reason)


def _order_status_for(reason: str) -> str:
    from .intents import EXPIRY_REASONS

    return Order.Status.EXPIRED if reason in EXPIRY_REASONS else Order.Status.CANCELED


def _leave(row: Payment, reason: str) -> None:
    """(Group locked) The order leaves the checkout's payment; nothing to ask Stripe."""
    from .intents import _action_done

    transition_locked(row, Payment.Status.CANCELED)
    order, moved = transition(Order, row.order_id, _order_status_for(reason), may_be_late=True)
    if moved:
        after_commit(notify.order_status_changed, order, row, order.status)
    _action_done(row)


def _release(row: Payment, reason: str) -> None:
    """(Group locked) The platform holds this unfulfilled order's money: refund it to
    the buyer (a partial refund of the checkout's charge, a row sent by a task)."""
    from payments.tasks import refund_execute_task

    due = row.amount_captured - row.amount_refunded
    if due > 0:
        refund = Refund.objects.create(
            payment=row,
            amount=due,
            currency=row.currency,
            reason=Refund.Reason.REQUESTED_BY_CUSTOMER if reason == "requested_by_customer" else "",
            note="The order ended before it was fulfilled: its part of the checkout's "
            "charge goes back to the buyer.",
            reverse_transfer=False,
            refund_application_fee=False,
            **outbox.first_dispatch(),
        )
        outbox.enqueue_on_commit(refund_execute_task, refund.pk)
    _leave(row, reason)


def _intent_cancel(payment: Payment, lead: Payment, reason: str) -> Payment:
    """The last order of the checkout goes: cancel the checkout's intent (lead's key)."""
    from .intents import _action_done, payment_apply_intent

    intent_id = payment.stripe_payment_intent_id or ""
    try:
        intent = gateway.payment_intent_cancel(
            payment_intent=intent_id, reason=reason, idempotency_key=f"payment-{lead.pk}-cancel"
        )
    except gateway.GatewayRejected as exc:
        intent = gateway.payment_intent_retrieve(payment_intent=intent_id)
        with transaction.atomic():
            payment_apply_intent(intent)
        if Payment.objects.get(pk=payment.pk).status in LIVE:
            raise NotYet(f"the checkout's charge moved on meanwhile ({exc}): decide again") from exc
    with transaction.atomic():
        payment_apply_intent(intent)
        _action_done(payment)
    payment.refresh_from_db()
    return payment


def _amount_lower(payment: Payment, lead: Payment, amount: int, reason: str) -> Payment:
    """An unpaid order leaves a checkout whose other orders stay: the intent asks the
    buyer for the others' amount only."""
    from .intents import _action_done, order_flag, payment_apply_intent

    intent_id = payment.stripe_payment_intent_id or ""
    try:
        intent = gateway.payment_intent_update(
            payment_intent=intent_id,
            amount=amount,
            idempotency_key=f"payment-{lead.pk}-amount-{amount}",
        )
    except gateway.GatewayRejected as exc:
        intent = gateway.payment_intent_retrieve(payment_intent=intent_id)
        with transaction.atomic():
            payment_apply_intent(intent)
            if intent["status"] in ("requires_payment_method", "requires_confirmation"):
                # Stripe refuses the amount itself (below its minimum): staff decide.
                _action_done(payment)
                order_flag(order_id=payment.order_id, reason=f"Could not leave the checkout: {exc}")
                payment.refresh_from_db()
                return payment
        raise NotYet(f"the checkout was paid meanwhile ({exc}): decide again") from exc
    with transaction.atomic():
        rows = rows_locked(intent_id)
        row = next(r for r in rows if r.pk == payment.pk)
        others = [
            r
            for r in rows
            if r.pk != row.pk and r.status in LIVE and r.action != Payment.Action.CANCEL
        ]
        if intent["amount"] != sum(r.amount for r in others) or row.status not in UNPAID:
            raise NotYet("the checkout changed while its amount was lowered: decide again")
        _leave(row, reason)
    return row
