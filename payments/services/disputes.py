"""Disputes: follow Stripe's dispute, recover the money from the contractor, answer it.

The platform is the merchant of record, so Stripe withdraws the disputed amount and
its dispute fee from the platform. What follows, all under the dispute's row lock:

- `dispute_apply` records each `charge.dispute.*` snapshot once and never backwards
  (the status table, and `last_event_created` for the other fields);
- when the funds are withdrawn (once), `DISPUTE_RECOVERY=reverse_transfer` takes the
  disputed amount back from the contractor's transfer for the order — never more than
  what they were paid for it, nor more than their transfer still holds; what cannot
  be taken is recorded as the shortfall and the order flagged for staff — as
  ContractorDebit rows (transfer reversals; the debit task sends them, keyed by the
  row), or for a checkout's platform charge a DisputeAction reversing the order's
  Transfer (`_reverse_own_transfer` says why). `DISPUTE_FEE_POLICY=contractor` adds an
  account debit for Stripe's fee;
- when the funds are reinstated (a won dispute), a DisputeAction per contractor gives
  back what their debits took, once those debits are settled.

A checkout's platform charge pays several orders: its dispute's amount is shared
among them in proportion to what each captured (cumulative half-up rounding, so the
shares add up to the amount to the cent).
"""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Sum

from core import outbox
from core.commit import after_commit
from core.money import format_amount
from core.statemachine import transition_locked
from notifications import events as notify
from payments.models import ContractorDebit, Dispute, DisputeAction, Payment, Transfer

from .debits import DebitError, debit_create, transfer_left
from .intents import order_flag
from .waits import NotYet

logger = logging.getLogger(__name__)

RECOVERY_POLICIES = ("reverse_transfer", "none")
FEE_POLICIES = ("platform", "contractor")


def recovery_policy() -> str:
    value = settings.DISPUTE_RECOVERY
    if value not in RECOVERY_POLICIES:
        raise ImproperlyConfigured(f"DISPUTE_RECOVERY must be one of {RECOVERY_POLICIES}")
    return value


def fee_policy() -> str:
    value = settings.DISPUTE_FEE_POLICY
    if value not in FEE_POLICIES:
        raise ImproperlyConfigured(f"DISPUTE_FEE_POLICY must be one of {FEE_POLICIES}")
    return value


# --- Stripe's snapshot -----------------------------------------------------------------


def charged_payments_of(dispute: Dispute) -> list[Payment]:
    """The payments the disputed charge actually took money for: an order dropped
    before the capture kept the charge's id but was never charged (evidence and the
    receipt must not claim it was). The dispute's own payment when none is."""
    found = [
        p for p in payments_of(dispute.stripe_charge_id) if p.status != Payment.Status.CANCELED
    ]
    charged = [p for p in found if p.amount_captured] or found
    return charged or [dispute.payment]


def payments_of(charge: str, payment_intent: str = "") -> list[Payment]:
    """Our payments the disputed charge paid (several for a checkout's shared charge)."""
    found = list(Payment.objects.filter(stripe_charge_id=charge or "-").order_by("pk"))
    if not found and payment_intent:
        found = list(Payment.objects.filter(stripe_payment_intent_id=payment_intent).order_by("pk"))
    return found


def _normalised(obj: dict, payment: Payment) -> dict:
    """The snapshot with Stripe's always-present fields filled in from the payment when
    a hand-made or trimmed event leaves them out."""
    return {
        **obj,
        "amount": obj.get("amount") or payment.amount_captured or payment.amount,
        "currency": obj.get("currency") or payment.currency,
        "status": obj.get("status") or Dispute.Status.NEEDS_RESPONSE,
    }


def _snapshot_fields(obj: dict) -> dict:
    """Our columns from a Stripe dispute object (amounts in minor units)."""
    txns = [t for t in obj.get("balance_transactions") or [] if isinstance(t, dict)]
    withdrawn = [t for t in txns if t.get("amount", 0) < 0]
    reinstated = [t for t in txns if t.get("amount", 0) > 0]
    due = (obj.get("evidence_details") or {}).get("due_by")
    fields = {
        "amount": obj["amount"],
        "currency": obj["currency"],
        "reason": obj.get("reason") or "",
        "due_by": datetime.fromtimestamp(due, tz=UTC) if due else None,
        "is_charge_refundable": bool(obj.get("is_charge_refundable")),
    }
    if withdrawn:
        fields["fee_amount"] = sum(t.get("fee", 0) for t in withdrawn)
        fields["fee_currency"] = withdrawn[0].get("currency", obj["currency"])
    return fields | {
        "funds_withdrawn": bool(withdrawn),
        "funds_reinstated": bool(reinstated),
        "fee_returned": any(t.get("fee", 0) < 0 for t in reinstated),
    }


def _locked_dispute(obj: dict, payment: Payment) -> tuple[Dispute, bool]:
    """The dispute's row, locked; created from the snapshot the first time."""
    existing = Dispute.objects.select_for_update().filter(stripe_dispute_id=obj["id"]).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            created = Dispute.objects.create(
                stripe_dispute_id=obj["id"],
                stripe_charge_id=obj.get("charge") or payment.stripe_charge_id,
                stripe_payment_intent_id=obj.get("payment_intent") or "",
                payment=payment,
                order_id=payment.order_id,
                status=obj["status"],
                amount=obj["amount"],
                currency=obj["currency"],
            )
    except IntegrityError:  # a concurrent delivery created it first
        return Dispute.objects.select_for_update().get(stripe_dispute_id=obj["id"]), False
    return Dispute.objects.select_for_update().get(pk=created.pk), True


def dispute_apply(obj: dict, *, event_created: int = 0) -> Dispute | None:
    """Record a `charge.dispute.*` snapshot (idempotent, never backwards) and act on
    what changed: recovery once the funds are withdrawn, a give-back once reinstated.
    None when the charge is not one of ours."""
    payments = payments_of(obj.get("charge") or "", obj.get("payment_intent") or "")
    if not payments:
        logger.warning("Dispute %s for an unknown charge", obj.get("id"))
        return None
    obj = _normalised(obj, payments[0])
    with transaction.atomic():
        dispute, created = _locked_dispute(obj, payments[0])
        before = (dispute.status, dispute.funds_withdrawn, dispute.funds_reinstated)
        fields = _snapshot_fields(obj)
        # Money flags only ever turn on: a late snapshot cannot undo a withdrawal.
        for flag in ("funds_withdrawn", "funds_reinstated", "fee_returned"):
            fields[flag] = fields[flag] or getattr(dispute, flag)
        if event_created < dispute.last_event_created:
            fields = {k: fields[k] for k in ("funds_withdrawn", "funds_reinstated", "fee_returned")}
        else:
            fields["last_event_created"] = event_created
        _save_changed(dispute, fields)
        transition_locked(dispute, obj["status"], may_be_late=True)
        _after_change(dispute, payments, before, created)
    return dispute


def dispute_answered(*, dispute_id: int, answer: dict) -> None:
    """Stripe's answer to staff's submission or acceptance is the dispute as it now
    stands (under review; lost, or an inquiry closed): applied at once like a webhook
    snapshot older than any seen (its money flags, its status), with what that
    brings (recovery, held transfers released, everyone told), so staff are not
    offered to answer again before the webhook, which then finds nothing to do."""
    dispute = Dispute.objects.get(pk=dispute_id)
    known = {
        "charge": dispute.stripe_charge_id,
        "payment_intent": dispute.stripe_payment_intent_id,
        "amount": dispute.amount,
        "currency": dispute.currency,
    }
    dispute_apply({**known, **answer, "id": dispute.stripe_dispute_id}, event_created=0)


def _save_changed(dispute: Dispute, fields: dict) -> None:
    changed = [name for name, value in fields.items() if getattr(dispute, name) != value]
    for name in changed:
        setattr(dispute, name, fields[name])
    if changed:
        dispute.save(update_fields=[*changed, "updated_at"])


def _after_change(dispute: Dispute, payments: list[Payment], before: tuple, created: bool) -> None:
    status, withdrawn, reinstated = before
    if created:
        for payment in payments:
            order_flag(order_id=payment.order_id, reason=f"Dispute opened ({dispute.reason})")
        after_commit(notify.dispute_changed, dispute, "opened")
    if dispute.funds_withdrawn and not withdrawn and not dispute.funds_reinstated:
        recovery_decide(dispute, payments)
    if dispute.funds_reinstated and not reinstated:
        funds_return_ask(dispute, payments)
    if dispute.status != status and dispute.status in Dispute.CLOSED:
        held_transfers_release(dispute, payments)
        after_commit(notify.dispute_changed, dispute, dispute.status)


# --- Recovery from the contractor ------------------------------------------------------


def shares(total: int, payments: list[Payment]) -> list[int]:
    """`total` split among `payments` in proportion to what each still holds of the
    charge (captured less refunded: an order dropped before the capture, or refunded,
    takes no share), adding up to `total` exactly (cumulative half-up rounding)."""
    weights = [max(0, p.amount_captured - p.amount_refunded) for p in payments]
    if not any(weights):  # our record of the capture is on its way: by amount
        weights = [0 if p.status == Payment.Status.CANCELED else p.amount for p in payments]
    whole = sum(weights)
    if whole <= 0:
        return [0 for _ in payments]
    result, running, given = [], 0, 0
    for weight in weights:
        running += weight
        upto = (2 * total * running + whole) // (2 * whole)
        result.append(upto - given)
        given = upto
    return result


def recovery_decide(dispute: Dispute, payments: list[Payment]) -> None:
    """(Dispute locked) The funds were withdrawn: debit the contractors per policy, once."""
    if dispute.recovery_decided:
        return
    shortfall = 0
    if recovery_policy() == "reverse_transfer":
        for payment, share in zip(payments, shares(dispute.amount, payments), strict=True):
            shortfall += _recover_share(dispute, payment, share)
    if fee_policy() == "contractor" and dispute.fee_amount:
        # Only contractors who were paid for their order pay a part of the fee.
        paid = [p for p in payments if p.status == Payment.Status.CAPTURED]
        fee_currency = dispute.fee_currency or dispute.currency
        for payment, fee in zip(paid, shares(dispute.fee_amount, paid), strict=True):
            if fee > 0:
                shortfall += _debit(dispute, payment, fee, fee_currency, "dispute fee", None)
    dispute.recovery_decided = True
    dispute.recovery_shortfall = shortfall
    dispute.save(update_fields=["recovery_decided", "recovery_shortfall", "updated_at"])
    if shortfall:
        order_flag(
            order_id=dispute.order_id,
            reason=f"Dispute {dispute}: {format_amount(shortfall, dispute.currency)}"
            " could not be recovered from the contractor",
        )
    after_commit(notify.dispute_changed, dispute, "funds_withdrawn")


def _recover_share(dispute: Dispute, payment: Payment, share: int) -> int:
    """Reverse up to `share` of the order's transfer; returns what could not be."""
    if payment.status != Payment.Status.CAPTURED:
        if not payment.shares_intent:
            # Stripe disputes only captured money: our record of the capture is on its
            # way (its webhook or the capture task). The event is retried after a backoff.
            raise NotYet(f"payment {payment.pk} is not recorded as captured yet")
        # An order of the checkout not fulfilled: its contractor was not paid, and must
        # not be paid from money the bank took back without staff looking first.
        order_flag(
            order_id=payment.order_id,
            reason=f"Dispute {dispute}: the checkout's charge is disputed; not paid yet",
        )
        return 0
    # The contractor never owes more than they were paid for the order.
    owed = min(share, max(0, payment.amount_captured - payment.application_fee_amount))
    if payment.shares_intent:
        return owed - _reverse_own_transfer(dispute, payment, owed)
    take = min(owed, transfer_left(payment))
    missing = owed - take
    if take > 0:
        missing += _debit(dispute, payment, take, payment.currency, "disputed amount", payment)
    return missing


def _debit(
    dispute: Dispute,
    payment: Payment,
    amount: int,
    currency: str,
    what: str,
    reversal_of: Payment | None,
) -> int:
    """One ContractorDebit for the dispute (a reversal of `reversal_of`'s transfer, or
    an account debit); returns the amount that could not be debited (0 or `amount`)."""
    try:
        debit = debit_create(
            contractor_id=payment.order.seller_id,
            amount=amount,
            currency=currency,
            reason=f"Dispute {dispute.stripe_dispute_id} ({dispute.reason}): {what}",
            created_by_id=None,
            order_id=reversal_of.order_id if reversal_of else None,
        )
    except DebitError as exc:
        logger.warning("Dispute %s: cannot debit %s: %s", dispute, amount, exc)
        return amount
    dispute.debits.add(debit)
    return 0


def _reverse_own_transfer(dispute: Dispute, payment: Payment, owed: int) -> int:
    """A checkout's charge: a DisputeAction reverses the order's Transfer (sent or on
    its way); returns the amount it takes. Not a ContractorDebit: Stripe reverses such
    a transfer only from the contractor's available balance, and a debit refused for
    that cannot be tried again (its idempotency key is fixed), where this row waits
    and retries with its next key (`refusals`), as TransferReversal does for refunds."""
    from payments.tasks import dispute_action_execute_task

    from .transfers import taken_back

    transfer = (
        Transfer.objects.filter(payment=payment)
        .exclude(status=Transfer.Status.FAILED)
        .select_related("payment")
        .first()
    )
    if transfer is not None and transfer.status == Transfer.Status.ON_HOLD:
        return owed  # never sent: the hold keeps it until the dispute closes
    take = min(owed, max(0, transfer.amount - taken_back(transfer))) if transfer else 0
    if take <= 0:
        return 0
    action, made = DisputeAction.objects.get_or_create(
        dispute=dispute,
        payment=payment,
        kind=DisputeAction.Kind.REVERSE_TRANSFER,
        defaults={"amount": take, **outbox.first_dispatch()},
    )
    if made:
        outbox.enqueue_on_commit(dispute_action_execute_task, action.pk)
    return action.amount


# --- Orders fulfilled while the charge is disputed ---------------------------------


def transfer_dispute_hold(transfer: Transfer) -> None:
    """(Transfer locked, pending, about to be sent) A checkout's charge the buyer's bank
    disputes pays a contractor who fulfilled only after the dispute opened: their
    transfer waits *on hold* until it closes (`held_transfers_release`), rather than
    paying out money the bank may take back. Once it is lost, the order's share of the
    dispute is withheld from the transfer — what a reversal would have taken had it
    been sent — and a transfer the share takes whole is never sent.

    A transfer that recovery already reverses (it was on its way when the funds were
    withdrawn) goes as asked, and so does every transfer without `reverse_transfer`.
    """
    if recovery_policy() != "reverse_transfer":
        return
    dispute = Dispute.objects.filter(stripe_charge_id=transfer.source_charge).order_by("pk").last()
    if dispute is None or dispute.status in Dispute.CLOSED - {Dispute.Status.LOST}:
        return
    payment = transfer.payment
    if _reversals_for(dispute, payment).exists():
        return
    if dispute.status != Dispute.Status.LOST:
        transition_locked(transfer, Transfer.Status.ON_HOLD)
        order_flag(
            order_id=payment.order_id,
            reason=f"Dispute {dispute}: the contractor's transfer is on hold until it closes",
        )
        return
    payments = payments_of(dispute.stripe_charge_id)
    share = dict(zip([p.pk for p in payments], shares(dispute.amount, payments), strict=True))
    withheld = min(share.get(payment.pk, 0), payment.transfer_amount)
    changes = {"withheld": withheld, "amount": payment.transfer_amount - withheld}
    if withheld == payment.transfer_amount:
        transition_locked(transfer, Transfer.Status.WITHHELD, changes=changes)
    elif withheld != transfer.withheld:
        for name, value in changes.items():
            setattr(transfer, name, value)
        transfer.save(update_fields=[*changes, "updated_at"])


def held_transfers_release(dispute: Dispute, payments: list[Payment]) -> None:
    """(Dispute locked, just closed) Transfers on hold for it go to be sent: in full
    when it is won, less the order's share when lost (`transfer_dispute_hold`)."""
    from payments.tasks import transfer_execute_task

    held = Transfer.objects.select_for_update().filter(
        payment__in=payments, status=Transfer.Status.ON_HOLD
    )
    for transfer in held:
        transition_locked(transfer, Transfer.Status.PENDING, changes=outbox.first_dispatch())
        outbox.enqueue_on_commit(transfer_execute_task, transfer.pk)


# --- Won: the contractor gets it back --------------------------------------------------


def funds_return_ask(dispute: Dispute, payments: list[Payment]) -> None:
    """(Dispute locked) Funds reinstated: one give-back per contractor's order whose
    debits the dispute made (the amount is fixed once those debits settled)."""
    from payments.tasks import dispute_action_execute_task

    if not dispute.recovery_decided:
        return  # nothing was taken (the reinstatement came first): nothing to give back
    for payment in payments:
        if not (
            _debits_for(dispute, payment).exists() or _reversals_for(dispute, payment).exists()
        ):
            continue
        action, made = DisputeAction.objects.get_or_create(
            dispute=dispute,
            payment=payment,
            kind=DisputeAction.Kind.RETURN_FUNDS,
            defaults=outbox.first_dispatch(),
        )
        if made:
            outbox.enqueue_on_commit(dispute_action_execute_task, action.pk)


def _debits_for(dispute: Dispute, payment: Payment):
    """The dispute's debits of this order's contractor: the reversal of the order's
    transfer, and the fee debit when the contractor paid it and Stripe returned it."""
    debits = dispute.debits.filter(contractor_id=payment.order.seller_id, currency=payment.currency)
    reversal = debits.filter(order_id=payment.order_id)
    if dispute.fee_returned:
        return reversal | debits.filter(order__isnull=True)
    return reversal


def _reversals_for(dispute: Dispute, payment: Payment):
    return dispute.actions.filter(kind=DisputeAction.Kind.REVERSE_TRANSFER, payment=payment)


def return_amount(dispute: Dispute, payment: Payment) -> int | None:
    """What to give back: what the debits and reversals took. None while one of them
    is still pending."""
    debits = _debits_for(dispute, payment)
    reversals = _reversals_for(dispute, payment)
    if (
        debits.filter(status=ContractorDebit.Status.PENDING).exists()
        or reversals.filter(status=DisputeAction.Status.PENDING).exists()
    ):
        return None
    taken = debits.filter(status=ContractorDebit.Status.SUCCEEDED).aggregate(t=Sum("amount"))
    reversed_ = reversals.filter(status=DisputeAction.Status.SUCCEEDED).aggregate(t=Sum("amount"))
    return (taken["t"] or 0) + (reversed_["t"] or 0)
