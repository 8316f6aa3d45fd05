"""Disputes: opened by Stripe's dispute test cards, answered with evidence or closed.

As Stripe's test cards do (docs.stripe.com/testing#disputes), a captured payment
with ``4000000000000259`` / ``pm_card_createDispute`` is disputed as ``fraudulent``
for its full amount, and ``4000000000002685`` /
``pm_card_createDisputeProductNotReceived`` as ``product_not_received``: the dispute
is ``needs_response``, and the disputed amount plus Stripe's 15.00 dispute fee is
withdrawn from the balance of the account the charge is on (the platform, for
destination charges) at once (``charge.dispute.created``, then
``charge.dispute.funds_withdrawn``). ``4000000000001976`` /
``pm_card_createDisputeInquiry`` opens an inquiry instead (``warning_needs_response``):
no money moves and the charge can still be refunded (``is_charge_refundable``).

``POST /v1/disputes/{id}`` stages evidence (``submit=false``) or submits it (the
default), which moves the dispute to ``under_review``; as in Stripe's test mode,
submitting ``uncategorized_text`` ``winning_evidence`` or ``losing_evidence`` decides
it at once. ``/close`` accepts it (``lost``). ``/_sandbox/disputes/{id}/resolve``
decides one as the bank would: won gives back the amount and the fee
(``charge.dispute.funds_reinstated``), and both end with ``charge.dispute.closed``; an
inquiry the bank drops (``won``) is ``warning_closed``, and one it escalates (``lost``)
becomes a chargeback, ``needs_response`` with the money withdrawn.
"""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..errors import invalid_request, resource_missing
from ..render import public
from ..sandbox import Ctx
from ..store import Obj
from .common import Endpoint, apply_metadata, fetch, list_where

DISPUTE_FEE = 1500  # Stripe's dispute fee: 15.00 (USD)
EVIDENCE_WINDOW = 7 * 24 * 3600
TEST_CARD_REASONS = {
    "dispute_fraudulent": "fraudulent",
    "dispute_product_not_received": "product_not_received",
    "dispute_inquiry": "fraudulent",
}
OPEN = ("needs_response", "warning_needs_response")
CLOSED = ("won", "lost", "warning_closed")
INQUIRY = ("warning_needs_response", "warning_under_review")
# Evidence fields that name a file upload (purpose dispute_evidence).
FILE_FIELDS = (
    "cancellation_policy",
    "customer_communication",
    "customer_signature",
    "duplicate_charge_documentation",
    "receipt",
    "refund_policy",
    "service_documentation",
    "shipping_documentation",
    "uncategorized_file",
)
TEXT_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_tracking_number",
    "uncategorized_text",
)
MAX_EVIDENCE_CHARS = 150_000


def open_for_test_card(ctx: Ctx, charge: Obj) -> Obj | None:
    """Dispute a just-captured charge paid with one of the dispute test cards."""
    pm = ctx.store.get(charge.get("payment_method") or "", "payment_method")
    behaviour = pm.get("_behaviour", "") if pm else ""
    reason = TEST_CARD_REASONS.get(behaviour)
    if reason is None:
        return None
    return open_dispute(ctx, charge, reason, inquiry=behaviour == "dispute_inquiry")


def open_dispute(
    ctx: Ctx, charge: Obj, reason: str, amount: int | None = None, *, inquiry: bool = False
) -> Obj:
    """The buyer's bank disputes ``charge``: the dispute, then the withdrawal (an
    inquiry withdraws nothing until it escalates)."""
    amount = amount or charge["amount_captured"] - charge["amount_refunded"]
    now = ctx.now()
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    dispute: Obj = {
        "id": ids.new_id("dp"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge["id"],
        "created": now,
        "currency": charge["currency"],
        "evidence": dict.fromkeys((*TEXT_FIELDS, *FILE_FIELDS)),
        "evidence_details": {
            "due_by": now + EVIDENCE_WINDOW,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": inquiry,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge.get("payment_intent"),
        "payment_method_details": {
            "card": {"brand": card.get("brand", "visa"), "network_reason_code": "10.4"},
            "type": "card",
        },
        "reason": reason,
        "status": "warning_needs_response" if inquiry else "needs_response",
    }
    account = charge.get("_account")
    ctx.store.add(dispute, account)
    charge["disputed"] = True
    ctx.store.touch(charge)
    ctx.emit("charge.dispute.created", dispute)
    if not inquiry:
        _withdraw(ctx, dispute)
    return dispute


def _withdraw(ctx: Ctx, dispute: Obj) -> None:
    """A chargeback: the disputed amount and the fee leave the balance at once."""
    description = f"Chargeback withdrawal for {dispute['charge']}"
    _move_funds(ctx, dispute, -dispute["amount"], DISPUTE_FEE, description)
    ctx.emit("charge.dispute.funds_withdrawn", dispute)


def _move_funds(ctx: Ctx, dispute: Obj, amount: int, fee: int, description: str) -> None:
    txn = ctx.ledger.record(
        dispute.get("_account"),
        "adjustment",
        amount,
        dispute["currency"],
        dispute["id"],
        description=description,
        fee=fee,
        fee_details=[
            {
                "amount": fee,
                "application": None,
                "currency": dispute["currency"],
                "description": "Dispute fee",
                "type": "stripe_fee",
            }
        ],
        available_at=ctx.sandbox.clock.time(),
    )
    txn["reporting_category"] = "dispute" if amount < 0 else "dispute_reversal"
    ctx.store.touch(txn)
    dispute["balance_transactions"] = [*dispute["balance_transactions"], public(txn)]
    ctx.store.touch(dispute)


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "dispute", id)


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(ctx, "dispute", "/v1/disputes", params, ("charge", "payment_intent"))


def _check_open(dispute: Obj, doing: str) -> None:
    status = dispute["status"]
    if status in CLOSED:
        raise invalid_request(f"This dispute is already closed ({status}); you cannot {doing}.")
    if status not in OPEN:
        raise invalid_request(
            f"This dispute is {status}: evidence was already submitted, so you cannot {doing}."
        )


def _check_evidence(ctx: Ctx, evidence: dict[str, Any]) -> None:
    for name, value in evidence.items():
        if name in FILE_FIELDS and value:
            upload = ctx.store.get(value, "file")
            if upload is None or upload.get("_account") != ctx.account:
                error = resource_missing("file", value, param=f"evidence[{name}]")
                error.status = 400
                raise error
            if upload["purpose"] != "dispute_evidence":
                raise invalid_request(
                    f"The file {value} has purpose {upload['purpose']}; dispute evidence "
                    "must be uploaded with purpose dispute_evidence.",
                    param=f"evidence[{name}]",
                )
    if sum(len(str(v)) for v in evidence.values() if v) > MAX_EVIDENCE_CHARS:
        raise invalid_request(
            f"The combined character count of all evidence fields is limited to "
            f"{MAX_EVIDENCE_CHARS}.",
            param="evidence",
        )


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    """Stage or submit evidence (``submit`` defaults to true, as at Stripe)."""
    dispute = fetch(ctx, "dispute", id)
    evidence = params.get("evidence")
    submit = params.get("submit", True)
    previous: dict[str, Any] = {}
    if evidence is not None or submit:
        _check_open(dispute, "update its evidence")
    if evidence:
        _check_evidence(ctx, evidence)
        previous["evidence"] = dict(dispute["evidence"])
        for name, value in evidence.items():
            dispute["evidence"][name] = value or None
        dispute["evidence_details"]["has_evidence"] = any(dispute["evidence"].values())
    before = apply_metadata(dispute, params.get("metadata"))
    if before is not None:
        previous["metadata"] = before
    if submit:
        previous["status"] = dispute["status"]
        dispute["status"] = (
            "under_review" if dispute["status"] == "needs_response" else "warning_under_review"
        )
        dispute["evidence_details"]["submission_count"] += 1
    ctx.store.touch(dispute)
    if previous:
        ctx.emit("charge.dispute.updated", dispute, previous)
    outcome = {"winning_evidence": "won", "losing_evidence": "lost"}.get(
        dispute["evidence"].get("uncategorized_text") or ""
    )
    if submit and outcome and dispute["status"] == "under_review":
        resolve(ctx, dispute, outcome)
    return dispute


def close(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    """Accept the dispute: lost (an inquiry: warning_closed)."""
    dispute = fetch(ctx, "dispute", id)
    _check_open(dispute, "close it")
    previous = {"status": dispute["status"]}
    dispute["status"] = "lost" if dispute["status"] == "needs_response" else "warning_closed"
    ctx.store.touch(dispute)
    ctx.emit("charge.dispute.closed", dispute, previous)
    return dispute


def resolve(ctx: Ctx, dispute: Obj, outcome: str) -> Obj:
    """The bank decides (``won`` or ``lost``): won gives back the amount and the fee."""
    if outcome not in ("won", "lost"):
        raise invalid_request("outcome must be won or lost", param="outcome")
    if dispute["status"] in CLOSED:
        raise invalid_request(f"This dispute is already closed ({dispute['status']}).")
    previous = {"status": dispute["status"]}
    if dispute["status"] in INQUIRY:
        return _inquiry_decided(ctx, dispute, outcome, previous)
    withdrawn = any(t["amount"] < 0 for t in dispute["balance_transactions"])
    if outcome == "won" and withdrawn:
        _move_funds(
            ctx,
            dispute,
            dispute["amount"],
            -DISPUTE_FEE,
            f"Chargeback reversal for {dispute['charge']}",
        )
        ctx.emit("charge.dispute.funds_reinstated", dispute)
    dispute["status"] = outcome
    ctx.store.touch(dispute)
    ctx.emit("charge.dispute.closed", dispute, previous)
    return dispute


def _inquiry_decided(ctx: Ctx, dispute: Obj, outcome: str, previous: dict) -> Obj:
    """Dropped (won): the inquiry closes, nothing moved. Escalated (lost): it becomes
    a chargeback to answer, and the money is withdrawn."""
    if outcome == "won":
        dispute["status"] = "warning_closed"
        ctx.store.touch(dispute)
        ctx.emit("charge.dispute.closed", dispute, previous)
        return dispute
    dispute["status"] = "needs_response"
    dispute["is_charge_refundable"] = False
    dispute["evidence_details"]["due_by"] = ctx.now() + EVIDENCE_WINDOW
    ctx.store.touch(dispute)
    ctx.emit("charge.dispute.updated", dispute, previous)
    _withdraw(ctx, dispute)
    return dispute


ROUTES = [
    Endpoint("GET", "/v1/disputes", list_all, sp.DisputeListParams),
    Endpoint("GET", "/v1/disputes/{id}", retrieve, sp.DisputeRetrieveParams),
    Endpoint("POST", "/v1/disputes/{id}", update, sp.DisputeUpdateParams),
    Endpoint("POST", "/v1/disputes/{id}/close", close, sp.DisputeCloseParams),
]
