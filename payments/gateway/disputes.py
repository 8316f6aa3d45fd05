"""Disputes of the platform's charges: read them, answer them with evidence (a draft,
or submitted), accept them, upload evidence files, and give a won dispute's money
back to the contractor.

Disputes of destination charges and of a checkout's platform charge live on the
platform's account (the platform is the merchant of record), so nothing here passes
`stripe_account`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, BinaryIO

import stripe

from . import _core
from ._core import found, nothing, plain, read_options, since, translated_errors, write

# Stripe's closed statuses: a close that already took effect left one of these.
CLOSED = frozenset({"won", "lost", "warning_closed"})
# The statuses in which a dispute still takes evidence: a submission moves it on.
OPEN = frozenset({"needs_response", "warning_needs_response"})


def dispute_retrieve(*, dispute: str) -> dict:
    with translated_errors("dispute_retrieve"):
        return plain(_core.stripe_client().v1.disputes.retrieve(dispute))


def dispute_list(*, created_gte: int | None = None) -> list[dict]:
    """The platform's disputes (created since `created_gte`), newest first."""
    params: stripe.params.DisputeListParams = {"limit": 100}
    if created_gte is not None:
        params["created"] = {"gte": created_gte}
    with translated_errors("dispute_list"):
        listing = _core.stripe_client().v1.disputes.list(params)
        return [d.to_dict() for d in listing.auto_paging_iter()]


def dispute_update(
    *, dispute: str, evidence: dict[str, str], submit: bool, idempotency_key: str
) -> dict:
    """Stage evidence on the dispute (`submit=False`) or send it to the bank.

    `submit` is always sent: Stripe's default is true, so leaving it out would submit
    a draft. Setting values twice sets them once, so a draft is sent again under
    another key after a 500. A submission is not: Stripe takes evidence once and
    refuses a dispute no longer open, so after a 500 the dispute is read again and
    returned if the submission went through.
    """
    params: dict[str, Any] = {"evidence": evidence, "submit": submit}
    find: Callable[[], dict | None] = nothing
    if submit:
        # What the dispute showed before: a submission counts one more. (An inquiry
        # answered once and escalated to a chargeback is open again, with a count.)
        before = _submissions(dispute_retrieve(dispute=dispute))

        def submitted() -> dict | None:
            # Ours: one more submission than before this call, or (a retry, after an
            # earlier call's answer was lost) no longer open *and* holding what we
            # sent. A dispute closed otherwise (its deadline passed, answered from
            # Stripe's dashboard) did not take this evidence.
            current = dispute_retrieve(dispute=dispute)
            held = current.get("evidence") or {}
            ours = all(held.get(name) == value for name, value in evidence.items() if value)
            if _submissions(current) > before or (current.get("status") not in OPEN and ours):
                return current
            return None

        find = submitted

    return write(
        "dispute_update",
        idempotency_key,
        lambda options: _core.stripe_client().v1.disputes.update(dispute, params, options),  # type: ignore[arg-type]
        find,
    )


def _submissions(dispute: dict) -> int:
    return int((dispute.get("evidence_details") or {}).get("submission_count") or 0)


def dispute_close(*, dispute: str, idempotency_key: str) -> dict:
    """Accept the dispute (Stripe calls it closing): the money stays with the buyer."""

    def closed() -> dict | None:
        current = dispute_retrieve(dispute=dispute)
        return current if current.get("status") in CLOSED else None

    return write(
        "dispute_close",
        idempotency_key,
        lambda options: _core.stripe_client().v1.disputes.close(dispute, None, options),
        closed,
    )


def dispute_evidence_upload(*, file: BinaryIO, filename: str, idempotency_key: str) -> dict:
    """Upload one evidence file (Files API, `purpose=dispute_evidence`), on the
    platform's account, where the dispute is; the file's id goes into the evidence."""
    data = file.read()
    recent: stripe.params.FileListParams = {
        "purpose": "dispute_evidence",
        "created": {"gte": since()},
        "limit": 100,
    }

    def send(options: stripe.RequestOptions) -> Any:
        upload = io.BytesIO(data)  # a fresh stream for each attempt
        upload.name = filename
        return _core.stripe_client().v1.files.create(
            {"purpose": "dispute_evidence", "file": upload}, options
        )

    return write(
        "dispute_evidence_upload",
        idempotency_key,
        send,
        lambda: found(
            "file_find",
            lambda: _core.stripe_client().v1.files.list(recent, read_options()),
            filename=filename,
            size=len(data),
        ),
    )


def dispute_funds_return(
    *,
    amount: int,
    currency: str,
    destination: str,
    dispute_id: str,
    order_id: int,
    action_id: int,
    idempotency_key: str,
) -> dict:
    """Give a contractor back what a won dispute had taken from them: a new transfer
    from the platform's balance (the reinstated funds are there), not tied to a charge."""
    metadata = {"dispute": dispute_id, "order_id": str(order_id), "dispute_action": str(action_id)}
    params: stripe.params.TransferCreateParams = {
        "amount": amount,
        "currency": currency,
        "destination": destination,
        "metadata": metadata,
        "description": f"Dispute {dispute_id} won: order {order_id}",
    }
    recent: stripe.params.TransferListParams = {
        "destination": destination,
        "created": {"gte": since()},
        "limit": 100,
    }
    return write(
        "dispute_funds_return",
        idempotency_key,
        lambda options: _core.stripe_client().v1.transfers.create(params, options),
        lambda: found(
            "transfer_find",
            lambda: _core.stripe_client().v1.transfers.list(recent),
            metadata=metadata,
        ),
    )


def dispute_transfer_reversal_made(
    *, transfer: str, dispute_id: str, action_id: int
) -> dict | None:
    """The reversal our DisputeAction row asked for, if Stripe made it (an answer lost
    to a timeout or a 500 included); None when it never was."""
    metadata = {"dispute": dispute_id, "dispute_action": str(action_id)}
    return found(
        "transfer_reversal_find",
        lambda: _core.stripe_client().v1.transfers.reversals.list(transfer, {"limit": 100}),
        metadata=metadata,
    )


def dispute_transfer_reverse(
    *, transfer: str, amount: int, dispute_id: str, action_id: int, idempotency_key: str
) -> dict:
    """Take a disputed amount back from a contractor's transfer of a checkout's charge
    (separate charges and transfers), for our DisputeAction row."""
    metadata = {"dispute": dispute_id, "dispute_action": str(action_id)}
    return write(
        "dispute_transfer_reverse",
        idempotency_key,
        lambda options: _core.stripe_client().v1.transfers.reversals.create(
            transfer, {"amount": amount, "metadata": metadata}, options
        ),
        lambda: dispute_transfer_reversal_made(
            transfer=transfer, dispute_id=dispute_id, action_id=action_id
        ),
    )
