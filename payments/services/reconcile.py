"""Reconciliation: compare our books with Stripe's and list every difference.

For each of our payments we read the PaymentIntent (with its charge) and its
refunds; for each debit, the Stripe object it made; and we list Stripe's recent
PaymentIntents to find any that belong to an order we do not know; and work of ours
that should have reached Stripe by now (a capture, a refund, an event) is listed
too. Read-only.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from payments import gateway
from payments.models import ContractorDebit, Payment, Refund
from payments.services.stranded import stranded_work

# Which Stripe intent statuses each of our payment statuses may stand for.
INTENT_STATUSES: dict[str, set[str]] = {
    Payment.Status.PENDING: {"requires_payment_method", "requires_confirmation", "processing"},
    Payment.Status.REQUIRES_ACTION: {"requires_action"},
    Payment.Status.AUTHORIZED: {"requires_capture"},
    Payment.Status.CAPTURED: {"succeeded"},
    Payment.Status.CANCELED: {"canceled"},
}
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
    for refund in payment.refunds.all():
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
    for stripe_refund in theirs.values():
        yield Mismatch(
            "refund",
            f"payment #{payment.pk}",
            stripe_refund["id"],
            "exists",
            "no",
            f"{stripe_refund['amount']} {stripe_refund['currency']} {stripe_refund['status']}",
        )


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
            if intent["metadata"].get("order_id") and intent["id"] not in known:
                yield Mismatch(
                    "payment",
                    f"order id {intent['metadata']['order_id']}",
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
    """Every difference between our payments, refunds and debits and Stripe's, since `since`."""
    since = since or timezone.now() - timedelta(days=30)
    payments = Payment.objects.filter(created_at__gte=since).select_related("order")
    mismatches: list[Mismatch] = []
    known: set[str] = set()
    for payment in payments.prefetch_related("refunds"):
        known.add(payment.stripe_payment_intent_id or "")
        mismatches.extend(_payment_mismatches(payment))
    debits = ContractorDebit.objects.filter(created_at__gte=since).select_related("order")
    for debit in debits:
        mismatches.extend(_debit_mismatches(debit))
    mismatches.extend(_unknown_intents(since, known))
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
