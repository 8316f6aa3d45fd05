"""Reconciliation: compare our books with Stripe's and list every difference.

For each of our payments we read the PaymentIntent (with its charge) and its
refunds; for each debit, the Stripe object it made; and we list Stripe's recent
PaymentIntents to find any that belong to an order we do not know; and work of ours
that should have reached Stripe by now (a capture, a refund, an event) is listed
too. Read-only.

A checkout paid as one platform charge is checked as a whole (payments/services/
groups.py): its intent once, against all its orders' rows; its refunds, each the one
of our rows its metadata names; and its transfer group: each order paid (fulfilled)
has exactly one transfer, of amount − fee, to its contractor's account, from the
charge, reversed as much as our reversals say, and no order not fulfilled has any;
and what the platform keeps of the charge is what our rows say it keeps (the fees,
and what it holds for orders not fulfilled yet).
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from payments import gateway
from payments.models import (
    ContractorDebit,
    DisputeAction,
    Payment,
    Refund,
    Transfer,
    TransferReversal,
)
from payments.services.stranded import stranded_work

# Which Stripe intent statuses each of our payment statuses may stand for.
INTENT_STATUSES: dict[str, set[str]] = {
    Payment.Status.PENDING: {"requires_payment_method", "requires_confirmation", "processing"},
    Payment.Status.REQUIRES_ACTION: {"requires_action"},
    Payment.Status.AUTHORIZED: {"requires_capture"},
    Payment.Status.CAPTURED: {"succeeded"},
    Payment.Status.CANCELED: {"canceled"},
}
# The same for a row of a checkout's shared charge: its part is held on the platform
# (authorised) once the charge was captured for another order; a canceled row may
# have left a charge that goes on for the others.
SHARED_INTENT_STATUSES: dict[str, set[str]] = {
    **INTENT_STATUSES,
    Payment.Status.AUTHORIZED: {"requires_capture", "succeeded"},
    Payment.Status.CANCELED: {
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
        "requires_capture",
        "succeeded",
        "canceled",
    },
}
UNPAID_INTENT = {"requires_payment_method", "requires_confirmation", "requires_action"}
REFUND_STATUSES: dict[str, set[str | None]] = {
    Refund.Status.REQUESTED: {None},
    Refund.Status.PENDING: {"pending", "requires_action"},
    Refund.Status.SUCCEEDED: {"succeeded"},
    Refund.Status.FAILED: {"failed"},
    Refund.Status.CANCELED: {"canceled"},
}


@dataclass(frozen=True)
class Mismatch:
    """One difference: what it is about, which field, our value and Stripe's."""

    kind: str
    ours: str
    stripe_id: str
    field: str
    our_value: str
    stripe_value: str

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.ours} ({self.stripe_id or '—'}): {self.field} is "
            f"{self.our_value!s} here, {self.stripe_value!s} at Stripe"
        )


def _charge(intent: dict) -> dict:
    charge = intent.get("latest_charge")
    return charge if isinstance(charge, dict) else {}


def _payment_mismatches(payment: Payment) -> Iterator[Mismatch]:
    ours = f"payment #{payment.pk} (order {payment.order.public_id})"
    pi = payment.stripe_payment_intent_id or ""

    def diff(field: str, our_value, stripe_value) -> Iterator[Mismatch]:
        if our_value != stripe_value:
            yield Mismatch("payment", ours, pi, field, str(our_value), str(stripe_value))

    if not pi:
        return
    try:
        intent = gateway.payment_intent_retrieve(payment_intent=pi, expand_charge=True)
    except gateway.GatewayRejected:
        yield Mismatch("payment", ours, pi, "exists", "yes", "no such PaymentIntent")
        return
    if intent["status"] not in INTENT_STATUSES[payment.status]:
        yield Mismatch("payment", ours, pi, "status", payment.status, intent["status"])
    yield from diff("amount", payment.amount, intent["amount"])
    yield from diff("currency", payment.currency, intent["currency"])
    yield from diff(
        "application_fee_amount", payment.application_fee_amount, intent["application_fee_amount"]
    )
    destination = (intent.get("transfer_data") or {}).get("destination")
    yield from diff("destination", payment.destination_account, destination)
    if payment.status == Payment.Status.CAPTURED:
        yield from diff("amount_captured", payment.amount_captured, intent["amount_received"])
        charge = _charge(intent)
        yield from diff("amount_refunded", payment.amount_refunded, charge.get("amount_refunded"))
        transfer = charge.get("transfer")
        transfer_id = transfer.get("id") if isinstance(transfer, dict) else transfer
        if payment.stripe_transfer_id:
            yield from diff("transfer", payment.stripe_transfer_id, transfer_id)
    yield from _refund_mismatches(payment, pi)


def _refund_mismatches(payment: Payment, pi: str) -> Iterator[Mismatch]:
    theirs = {r["id"]: r for r in gateway.refund_list(payment_intent=pi)}
    yield from _refunds_compared(payment.refunds.all(), theirs)
    yield from _refunds_unknown(theirs, f"payment #{payment.pk}")


def _refunds_compared(refunds: Iterable[Refund], theirs: dict[str, dict]) -> Iterator[Mismatch]:
    """Each of our refunds against Stripe's (taken out of `theirs`)."""
    for refund in refunds:
        ours = f"refund #{refund.pk}"
        stripe_refund = theirs.pop(refund.stripe_refund_id or "", None)
        if stripe_refund is None:
            if refund.stripe_refund_id or refund.status not in (
                Refund.Status.REQUESTED,
                Refund.Status.FAILED,
            ):
                yield Mismatch("refund", ours, refund.stripe_refund_id or "", "exists", "yes", "no")
            continue
        if stripe_refund["amount"] != refund.amount:
            yield Mismatch(
                "refund",
                ours,
                stripe_refund["id"],
                "amount",
                str(refund.amount),
                str(stripe_refund["amount"]),
            )
        if stripe_refund["status"] not in REFUND_STATUSES[refund.status]:
            yield Mismatch(
                "refund",
                ours,
                stripe_refund["id"],
                "status",
                refund.status,
                stripe_refund["status"],
            )


def _refunds_unknown(theirs: dict[str, dict], ours: str) -> Iterator[Mismatch]:
    for stripe_refund in theirs.values():
        yield Mismatch(
            "refund",
            ours,
            stripe_refund["id"],
            "exists",
            "no",
            f"{stripe_refund['amount']} {stripe_refund['currency']} {stripe_refund['status']}",
        )


# --- A checkout's shared charge and its transfer group ----------------------------------


def _group_mismatches(rows: list[Payment]) -> Iterator[Mismatch]:
    """One checkout's platform charge, against every order's row of it."""
    lead = rows[0]
    pi = lead.stripe_payment_intent_id or ""
    ours = f"checkout {lead.order.checkout_id}"

    def diff(field: str, our_value, stripe_value) -> Iterator[Mismatch]:
        if our_value != stripe_value:
            yield Mismatch("checkout", ours, pi, field, str(our_value), str(stripe_value))

    try:
        intent = gateway.payment_intent_retrieve(payment_intent=pi, expand_charge=True)
    except gateway.GatewayRejected:
        yield Mismatch("checkout", ours, pi, "exists", "yes", "no such PaymentIntent")
        return
    yield from diff("transfer_group", lead.transfer_group, intent.get("transfer_group"))
    yield from diff("destination", None, (intent.get("transfer_data") or {}).get("destination"))
    yield from diff("application_fee_amount", None, intent.get("application_fee_amount"))
    yield from diff("currency", lead.currency, intent["currency"])
    if intent["status"] in UNPAID_INTENT:
        live = [r for r in rows if r.status != Payment.Status.CANCELED]
        yield from diff("amount", sum(r.amount for r in live), intent["amount"])
    elif intent["status"] in ("requires_capture", "succeeded"):
        yield from diff("amount", sum(r.amount_authorized for r in rows), intent["amount"])
    for row in rows:
        if intent["status"] not in SHARED_INTENT_STATUSES[row.status]:
            yield Mismatch("payment", _row_name(row), pi, "status", row.status, intent["status"])
    charge = _charge(intent)
    if intent["status"] == "succeeded":
        captured = sum(r.amount_captured for r in rows)
        yield from diff("amount_captured", captured, intent["amount_received"])
        released = charge.get("amount", 0) - charge.get("amount_captured", 0)
        refunded = released + sum(r.amount_refunded for r in rows)
        yield from diff("amount_refunded", refunded, charge.get("amount_refunded"))
    theirs = {r["id"]: r for r in gateway.refund_list(payment_intent=pi)}
    yield from _refunds_compared((f for r in rows for f in r.refunds.all()), theirs)
    yield from _refunds_unknown(theirs, ours)
    yield from _transfer_mismatches(rows, charge.get("id") or lead.stripe_charge_id, ours)


def _row_name(row: Payment) -> str:
    return f"payment #{row.pk} (order {row.order.public_id})"


def _transfer_mismatches(rows: list[Payment], charge_id: str, ours: str) -> Iterator[Mismatch]:
    """The transfer group: exactly one transfer per order paid, of amount − fee, to
    its contractor, from the charge; none for an order not fulfilled; and what the
    platform keeps of the charge."""
    theirs = {t["id"]: t for t in gateway.transfer_list(transfer_group=rows[0].transfer_group)}
    stripe_net = our_net = 0
    for row in rows:
        transfer: Transfer | None = getattr(row, "transfer", None)
        found = theirs.pop(transfer.stripe_transfer_id or "", None) if transfer else None
        yield from _transfer_row(row, transfer, found, charge_id)
        if transfer is not None and transfer.status == Transfer.Status.SUCCEEDED:
            our_net += transfer.amount - _reversed(transfer)
        if found is not None:
            stripe_net += found["amount"] - found["amount_reversed"]
    for found in theirs.values():
        stripe_net += found["amount"] - found["amount_reversed"]
        made = f"{found['amount']} {found['currency']} to {found['destination']}"
        yield Mismatch("transfer", ours, found["id"], "exists", "no", made)
    kept = sum(r.amount_captured - r.amount_refunded for r in rows)
    if our_net != stripe_net:
        yield Mismatch(
            "checkout",
            ours,
            charge_id,
            "platform keeps",
            str(kept - our_net),
            str(kept - stripe_net),
        )


def _transfer_row(
    row: Payment, transfer: Transfer | None, found: dict | None, charge_id: str
) -> Iterator[Mismatch]:
    """One order's transfer: there exactly when the order is paid, as we asked it."""
    paid = row.status == Payment.Status.CAPTURED and row.transfer_amount > 0
    sent = transfer is not None and transfer.status == Transfer.Status.SUCCEEDED
    stripe_id = found["id"] if found else (transfer.stripe_transfer_id or "" if transfer else "")
    if paid and transfer is None:
        yield Mismatch("transfer", _row_name(row), "", "exists", "no", "— (order fulfilled)")
    if transfer is not None and not paid:
        yield Mismatch("transfer", _row_name(row), stripe_id, "order", row.status, "transfer made")
    if transfer is not None and found is None and sent:
        yield Mismatch("transfer", f"transfer #{transfer.pk}", stripe_id, "exists", "yes", "no")
    if transfer is not None and found is not None and not sent:
        yield Mismatch(
            "transfer", f"transfer #{transfer.pk}", stripe_id, "status", "not sent", "made"
        )
    if transfer is not None and found is not None:
        yield from _transfer_compared(row, transfer, found, charge_id)


def _reversed(transfer: Transfer) -> int:
    """What our reversals (for refunds and disputes) and debits took back from a
    transfer, done at Stripe."""
    by_refunds = sum(
        r.amount for r in transfer.reversals.all() if r.status == TransferReversal.Status.SUCCEEDED
    )
    by_disputes = DisputeAction.objects.filter(
        payment_id=transfer.payment_id,
        kind=DisputeAction.Kind.REVERSE_TRANSFER,
        status=DisputeAction.Status.SUCCEEDED,
    ).aggregate(total=Sum("amount"))["total"]
    debited = ContractorDebit.objects.filter(
        order_id=transfer.payment.order_id,
        method=ContractorDebit.Method.TRANSFER_REVERSAL,
        status=ContractorDebit.Status.SUCCEEDED,
    ).values_list("amount", flat=True)
    return by_refunds + (by_disputes or 0) + sum(debited)


def _transfer_compared(
    row: Payment, transfer: Transfer, found: dict, charge_id: str
) -> Iterator[Mismatch]:
    name = f"transfer #{transfer.pk} (order {row.order.public_id})"
    expected = {
        # Less what a lost dispute kept back before it was sent (disputes.py).
        "amount": row.transfer_amount - transfer.withheld,
        "destination": row.destination_account,
        "source_transaction": charge_id,
        "currency": row.currency,
        "amount_reversed": _reversed(transfer),
    }
    for field, our_value in expected.items():
        stripe_value = found.get(field)
        if isinstance(stripe_value, dict):
            stripe_value = stripe_value.get("id")
        if our_value != stripe_value:
            yield Mismatch("transfer", name, found["id"], field, str(our_value), str(stripe_value))


def _debit_mismatches(debit: ContractorDebit) -> Iterator[Mismatch]:
    ours = f"debit #{debit.pk}"
    if debit.status != ContractorDebit.Status.SUCCEEDED:
        return
    if not debit.stripe_object_id:
        yield Mismatch("debit", ours, "", "stripe object", "missing", "?")
        return
    try:
        if debit.method == ContractorDebit.Method.TRANSFER_REVERSAL:
            payment = debit.order.payments.get(status=Payment.Status.CAPTURED)  # type: ignore[union-attr]
            transfer_id = payment.stripe_transfer_id
            if not payment.shares_intent:
                charge = gateway.charge_retrieve(charge=payment.stripe_charge_id)
                transfer = charge.get("transfer") or ""
                transfer_id = transfer["id"] if isinstance(transfer, dict) else transfer
            obj = gateway.transfer_reversal_retrieve(
                transfer=transfer_id, reversal=debit.stripe_object_id
            )
        else:
            obj = gateway.charge_retrieve(charge=debit.stripe_object_id)
    except (gateway.GatewayRejected, Payment.DoesNotExist):
        yield Mismatch("debit", ours, debit.stripe_object_id, "exists", "yes", "no")
        return
    if obj["amount"] != debit.amount:
        yield Mismatch(
            "debit", ours, debit.stripe_object_id, "amount", str(debit.amount), str(obj["amount"])
        )


def _unknown_intents(since: datetime, known: set[str]) -> Iterator[Mismatch]:
    """Stripe's intents for our orders (metadata order_id) that we have no payment for."""
    after = ""
    while True:
        page = gateway.payment_intent_list(created_gte=int(since.timestamp()), starting_after=after)
        for intent in page["data"]:
            metadata = intent["metadata"]
            owner = metadata.get("order_id") or metadata.get("checkout_id")
            if owner and intent["id"] not in known:
                kind = "order id" if metadata.get("order_id") else "checkout"
                yield Mismatch(
                    "payment",
                    f"{kind} {owner}",
                    intent["id"],
                    "exists",
                    "no",
                    f"{intent['amount']} {intent['currency']} {intent['status']}",
                )
        if not page["has_more"] or not page["data"]:
            return
        after = page["data"][-1]["id"]


def _stranded() -> Iterator[Mismatch]:
    """Work that should have reached Stripe by now (payments/services/stranded.py): our
    books and Stripe's agree on it, and that is the problem."""
    now = timezone.now()
    for work in stranded_work(now=now):
        yield Mismatch(
            work.kind, work.ours, work.stripe_id, "stranded", f"{work.what}, {work.age(now)}", "—"
        )


LAST_RUN_KEY = "reconcile:last-mismatches"


def reconcile(*, since: datetime | None = None) -> list[Mismatch]:
    """Every difference between our payments, refunds, transfers and debits and
    Stripe's, since `since`."""
    since = since or timezone.now() - timedelta(days=30)
    payments = Payment.objects.filter(created_at__gte=since).select_related("order")
    mismatches: list[Mismatch] = []
    known: set[str] = set()
    shared: dict[str, list[Payment]] = {}
    for payment in payments.prefetch_related("refunds"):
        known.add(payment.stripe_payment_intent_id or "")
        if payment.shares_intent and payment.stripe_payment_intent_id:
            shared.setdefault(payment.stripe_payment_intent_id, []).append(payment)
        else:
            mismatches.extend(_payment_mismatches(payment))
    for intent_id in shared:
        rows = (
            Payment.objects.filter(stripe_payment_intent_id=intent_id)
            .select_related("order", "transfer")
            .prefetch_related("refunds", "transfer__reversals")
            .order_by("pk")
        )
        mismatches.extend(_group_mismatches(list(rows)))
    debits = ContractorDebit.objects.filter(created_at__gte=since).select_related("order")
    for debit in debits:
        mismatches.extend(_debit_mismatches(debit))
    mismatches.extend(_unknown_intents(since, known))
    from .reconcile_disputes import dispute_mismatches  # it imports Mismatch from here

    mismatches.extend(dispute_mismatches(since))
    mismatches.extend(_stranded())
    # For /metrics (ops/backlog.py): how the last run ended, whoever ran it.
    cache.set(LAST_RUN_KEY, len(mismatches), None)
    return mismatches


def mismatches_csv(mismatches: list[Mismatch]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(Mismatch.__dataclass_fields__))
    writer.writeheader()
    for mismatch in mismatches:
        writer.writerow(asdict(mismatch))
    return buffer.getvalue()
