"""Staff's answer to a dispute (evidence saved as a draft or submitted, or accepting
it) and the give-back of a won dispute: DisputeAction rows a task sends to Stripe.

Evidence files are uploaded at once, while staff wait (the Files API): an upload only
gives us a file id to put in the evidence, changes nothing at the dispute, and a
failed one is shown to staff to try again, so there is no work to strand.
"""

import hashlib
import logging
from typing import IO

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import outbox
from core.commit import after_commit
from core.money import format_amount
from core.statemachine import transition, transition_locked
from notifications import events as notify
from payments import gateway
from payments.models import Dispute, DisputeAction, Transfer, attempt_key

from .disputes import dispute_answered, return_amount
from .waits import NotYet

logger = logging.getLogger(__name__)

# The evidence staff write, by Stripe's field names (POST /v1/disputes/{id}).
TEXT_FIELDS = (
    "product_description",
    "customer_name",
    "customer_email_address",
    "billing_address",
    "shipping_address",
    "shipping_carrier",
    "shipping_tracking_number",
    "shipping_date",
    "service_date",
    "refund_policy_disclosure",
    "uncategorized_text",
)
# Evidence that is a file (its id, from the Files API with purpose=dispute_evidence).
FILE_FIELDS = (
    "receipt",
    "customer_communication",
    "shipping_documentation",
    "refund_policy",
    "uncategorized_file",
)
# Stripe's limit on all evidence text together.
MAX_EVIDENCE_CHARS = 150_000
UPLOAD_TYPES = {b"%PDF": "pdf", b"\x89PNG": "png", b"\xff\xd8\xff": "jpg"}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class DisputeError(Exception):
    """A request about a dispute that cannot be done as asked, in words fit for staff."""


def evidence_clean(data: dict) -> dict[str, str]:
    """Only Stripe's evidence fields, as stripped text, within Stripe's limit."""
    unknown = set(data) - set(TEXT_FIELDS) - set(FILE_FIELDS)
    if unknown:
        raise DisputeError(f"Unknown evidence fields: {', '.join(sorted(unknown))}.")
    cleaned = {k: str(v).strip() for k, v in data.items() if str(v or "").strip()}
    for field in FILE_FIELDS:
        if cleaned.get(field, "file_").split("_", 1)[0] != "file":
            raise DisputeError(f"{field} must be an uploaded file's id (file_…).")
    if sum(len(v) for v in cleaned.values()) > MAX_EVIDENCE_CHARS:
        raise DisputeError(f"The evidence is longer than Stripe's {MAX_EVIDENCE_CHARS} characters.")
    return cleaned


def evidence_prefill(dispute: Dispute) -> dict[str, str]:
    """The order's facts as evidence, for staff to check before submitting: what was
    bought, by whom, the receipt, where it was shipped and how to follow it."""
    from shop.shipping import Address

    from .disputes import charged_payments_of

    # A checkout's charge paid every order in it: the evidence is about all of them.
    charged = charged_payments_of(dispute)
    orders = [p.order for p in charged]
    order = orders[0]
    address = Address.of_order(order)
    items = [item for o in orders for item in o.items.select_related("product")]
    lines = [f"{item.quantity} × {item.title}" for item in items]
    lines += [
        item.product.description for item in items if item.product and item.product.description
    ]
    paid = "; ".join(_paid_for(p) for p in charged)
    facts = {
        "product_description": "\n".join(lines),
        "customer_name": getattr(order.buyer, "get_full_name", lambda: "")() or "",
        "customer_email_address": order.buyer.email,
        "shipping_address": "\n".join(address.lines()) if address else "",
        # The fulfilment date, as Stripe names it for goods and for services.
        **_fulfilment_dates(orders),
        "shipping_carrier": ", ".join(sorted({_text(o.carrier) for o in orders} - {""})),
        "shipping_tracking_number": ", ".join(
            _text(o.tracking_number) for o in orders if o.tracking_number
        ),
        "uncategorized_text": (
            f"Paid on {order.created_at.date().isoformat()}: {paid} (payment"
            f" {dispute.stripe_payment_intent_id}, charge {dispute.stripe_charge_id})."
        ),
    }
    return {k: v for k, v in facts.items() if v} | dict(dispute.evidence or {})


def _paid_for(payment) -> str:
    """One order in the evidence: what the charge took for it, and any refund since."""
    text = f"order {payment.order.public_id}, "
    text += format_amount(payment.amount_captured or payment.amount, payment.currency)
    if payment.amount_refunded:
        text += f" ({format_amount(payment.amount_refunded, payment.currency)} refunded)"
    return text


def _fulfilment_dates(orders: list) -> dict[str, str]:
    """`shipping_date` (goods) and `service_date` (services): the first day an order
    of each kind was fulfilled, as Stripe's evidence writes dates (YYYY-MM-DD)."""
    dates: dict[str, str] = {}
    for order in sorted((o for o in orders if o.fulfilled_at), key=lambda o: o.fulfilled_at):
        field = "shipping_date" if order.requires_shipping else "service_date"
        dates.setdefault(field, order.fulfilled_at.date().isoformat())
    return dates


def _text(value: object) -> str:
    return str(value).strip() if value else ""


def _open_dispute_locked(dispute_id: int) -> Dispute:
    dispute = Dispute.objects.select_for_update().get(pk=dispute_id)
    if not dispute.is_open:
        raise DisputeError(f"The dispute is {dispute.get_status_display().lower()}: too late.")
    busy = dispute.actions.filter(
        status=DisputeAction.Status.PENDING,
        kind__in=[DisputeAction.Kind.SUBMIT, DisputeAction.Kind.ACCEPT],
    )
    if busy.exists():
        raise DisputeError("An answer to this dispute is already on its way to Stripe.")
    return dispute


def dispute_answer(
    *, dispute_id: int, evidence: dict, submit: bool, user_id: int | None
) -> DisputeAction:
    """Save staff's evidence on the dispute and send it to Stripe: staged there
    (`submit=False`, a draft) or submitted to the bank."""
    cleaned = evidence_clean(evidence)
    with transaction.atomic():
        dispute = _open_dispute_locked(dispute_id)
        dispute.evidence = cleaned
        dispute.save(update_fields=["evidence", "updated_at"])
        kind = DisputeAction.Kind.SUBMIT if submit else DisputeAction.Kind.SAVE_DRAFT
        return _action(dispute, kind, user_id, evidence=cleaned)


def dispute_accept(*, dispute_id: int, user_id: int | None) -> DisputeAction:
    """Accept the dispute (Stripe: close it): the buyer keeps the money."""
    with transaction.atomic():
        dispute = _open_dispute_locked(dispute_id)
        return _action(dispute, DisputeAction.Kind.ACCEPT, user_id)


def _action(dispute: Dispute, kind: str, user_id: int | None, **fields) -> DisputeAction:
    from payments.tasks import dispute_action_execute_task

    action = DisputeAction.objects.create(
        dispute=dispute, kind=kind, requested_by_id=user_id, **fields, **outbox.first_dispatch()
    )
    outbox.enqueue_on_commit(dispute_action_execute_task, action.pk)
    return action


def evidence_file_attach(*, dispute_id: int, field: str, upload: IO[bytes], filename: str) -> str:
    """Upload an evidence file (PDF, PNG or JPEG, at most 5 MB) and put its id in the
    dispute's evidence draft under `field`; returns the file id."""
    if field not in FILE_FIELDS:
        raise DisputeError(f"{field} is not an evidence file field.")
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise DisputeError("Evidence files may be at most 5 MB.")
    if not any(data.startswith(magic) for magic in UPLOAD_TYPES):
        raise DisputeError("Evidence files must be PDF, PNG or JPEG.")
    if not Dispute.objects.get(pk=dispute_id).is_open:
        raise DisputeError("The dispute no longer takes evidence.")
    digest = hashlib.sha256(data).hexdigest()[:24]
    try:
        uploaded = gateway.dispute_evidence_upload(
            file=_bytes_io(data),
            # Named by its content too: after a 500, Stripe's file list is searched by
            # name and size, which another evidence file could share.
            filename=f"{digest[:12]}-{filename[:80] or 'evidence'}",
            idempotency_key=f"dispute-{dispute_id}-file-{field}-{digest}",
        )
    except gateway.GatewayRejected as exc:
        raise DisputeError(f"Stripe refused the file: {exc}") from exc
    except gateway.GatewayUnavailable as exc:
        # Nothing changed here: the evidence is as it was, for staff to try again.
        raise DisputeError("Stripe could not be reached to take the file; try again.") from exc
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().get(pk=dispute_id)
        dispute.evidence = {**(dispute.evidence or {}), field: uploaded["id"]}
        dispute.save(update_fields=["evidence", "updated_at"])
    return uploaded["id"]


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


# --- The task's side -------------------------------------------------------------------


def dispute_action_execute(*, action_id: int) -> DisputeAction:
    """Send one pending action to Stripe, keyed by its row. Stripe refusing it marks
    it failed (staff hear of it); an unreachable Stripe raises for the task to retry."""
    action = DisputeAction.objects.select_related("dispute", "payment__order").get(pk=action_id)
    if action.status != DisputeAction.Status.PENDING:
        return action
    if action.kind == DisputeAction.Kind.REVERSE_TRANSFER and action.dispute.funds_reinstated:
        return _reversal_not_needed(action)
    key = attempt_key(f"dispute-action-{action.pk}", action.refusals)
    try:
        result = _send(action, key)
    except gateway.GatewayRejected as exc:
        if exc.code != "balance_insufficient":
            return _failed(action, exc)
        # The balance it comes from cannot cover it yet (a give-back: the platform's,
        # the reinstated money may be pending; a reversal: the contractor's available
        # balance): the same request later can, under the row's next key.
        DisputeAction.objects.filter(pk=action.pk).update(refusals=F("refusals") + 1)
        raise NotYet(f"the balance cannot cover it yet: {exc}") from exc
    return _succeeded(action, result)


def _reversal_not_needed(action: DisputeAction) -> DisputeAction:
    """The dispute was won while this reversal still waited (the contractor's balance
    could not cover it): the bank gave the money back, so nothing is to be taken. If
    an earlier try did reach Stripe (its answer lost), that reversal is recorded, and
    the give-back returns it; else the row is canceled and the give-back has nothing
    to return. Only the task holding this row (core.outbox.exclusive) decides, so no
    send of it is in flight meanwhile."""
    transfer = Transfer.objects.filter(payment=action.payment).first()
    made = None
    if transfer is not None and transfer.stripe_transfer_id:
        made = gateway.dispute_transfer_reversal_made(
            transfer=transfer.stripe_transfer_id,
            dispute_id=action.dispute.stripe_dispute_id,
            action_id=action.pk,
        )
    if made is not None:
        return _succeeded(action, made)
    with transaction.atomic():
        action, _ = transition(DisputeAction, action.pk, DisputeAction.Status.CANCELED)
    return action


def _failed(action: DisputeAction, exc: Exception) -> DisputeAction:
    """Stripe refused it: failed, with the reason; staff hear of it."""
    DisputeAction.objects.filter(pk=action.pk).update(refusals=F("refusals") + 1)
    with transaction.atomic():
        action, _ = transition(
            DisputeAction,
            action.pk,
            DisputeAction.Status.FAILED,
            changes={"failure_message": str(exc)[:1000]},
        )
        after_commit(notify.dispute_action_failed, action)
    return action


def _send(action: DisputeAction, key: str) -> dict:
    dispute = action.dispute
    if action.kind == DisputeAction.Kind.ACCEPT:
        return gateway.dispute_close(dispute=dispute.stripe_dispute_id, idempotency_key=key)
    if action.kind == DisputeAction.Kind.RETURN_FUNDS:
        return _return_funds(action, key)
    if action.kind == DisputeAction.Kind.REVERSE_TRANSFER:
        return _reverse_transfer(action, key)
    return gateway.dispute_update(
        dispute=dispute.stripe_dispute_id,
        evidence=action.evidence,
        submit=action.kind == DisputeAction.Kind.SUBMIT,
        idempotency_key=key,
    )


def _return_funds(action: DisputeAction, key: str) -> dict:
    payment = action.payment
    assert payment is not None  # a give-back always names the order's payment
    amount = return_amount(action.dispute, payment)
    if amount is None:
        raise NotYet("the dispute's debits of this contractor are not settled yet")
    if amount == 0:
        return {"id": ""}  # nothing was taken: nothing to give back
    DisputeAction.objects.filter(pk=action.pk).update(amount=amount)
    return gateway.dispute_funds_return(
        amount=amount,
        currency=payment.currency,
        destination=payment.destination_account,
        dispute_id=action.dispute.stripe_dispute_id,
        order_id=payment.order_id,
        action_id=action.pk,
        idempotency_key=key,
    )


def _reverse_transfer(action: DisputeAction, key: str) -> dict:
    transfer = Transfer.objects.filter(payment=action.payment).first()
    if transfer is None or transfer.status == Transfer.Status.FAILED:
        raise gateway.GatewayRejected("The transfer was never made: nothing to take back.")
    if not transfer.stripe_transfer_id:
        raise NotYet(f"transfer #{transfer.pk} is not sent yet")
    return gateway.dispute_transfer_reverse(
        transfer=transfer.stripe_transfer_id,
        amount=action.amount,
        dispute_id=action.dispute.stripe_dispute_id,
        action_id=action.pk,
        idempotency_key=key,
    )


def _succeeded(action: DisputeAction, result: dict) -> DisputeAction:
    with transaction.atomic():
        action = DisputeAction.objects.select_for_update().get(pk=action.pk)
        moved = transition_locked(
            action,
            DisputeAction.Status.SUCCEEDED,
            changes={"stripe_object_id": result.get("id") or ""},
        )
        if moved and action.kind == DisputeAction.Kind.SUBMIT:
            Dispute.objects.filter(pk=action.dispute_id, submitted_at__isnull=True).update(
                submitted_at=timezone.now()
            )
            after_commit(notify.dispute_changed, action.dispute, "submitted")
        answers = (DisputeAction.Kind.SUBMIT, DisputeAction.Kind.ACCEPT)
        if moved and action.kind in answers and result.get("status"):
            dispute_answered(dispute_id=action.dispute_id, answer=result)
        if moved and action.kind == DisputeAction.Kind.RETURN_FUNDS and action.amount:
            after_commit(notify.dispute_funds_returned, action)
    return action
