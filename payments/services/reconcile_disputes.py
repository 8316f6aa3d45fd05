"""Reconciliation of disputes: every dispute Stripe has on the platform since a date is
one we know, with the same status and amount, and every one we know is at Stripe.

A dispute we do not know means a lost webhook: nothing recovers its money from the
contractor until staff replay the event (or its charge is not one of ours).
"""

from collections.abc import Iterator
from datetime import datetime

from payments import gateway
from payments.models import Dispute

from .reconcile import Mismatch


def dispute_mismatches(since: datetime) -> Iterator[Mismatch]:
    """Differences between our Dispute rows and Stripe's disputes created since `since`."""
    theirs = {d["id"]: d for d in gateway.dispute_list(created_gte=int(since.timestamp()))}
    ours = {
        d.stripe_dispute_id: d
        for d in Dispute.objects.filter(stripe_dispute_id__in=list(theirs))
        | Dispute.objects.filter(created_at__gte=since)
    }
    for dispute_id, dispute in theirs.items():
        row = ours.get(dispute_id)
        if row is None:
            yield Mismatch(
                "dispute",
                f"charge {dispute.get('charge')}",
                dispute_id,
                "exists",
                "no",
                f"{dispute['amount']} {dispute['currency']} {dispute['status']}",
            )
            continue
        for field in ("status", "amount", "currency"):
            if getattr(row, field) != dispute[field]:
                yield Mismatch(
                    "dispute",
                    f"order {row.order_id}",
                    dispute_id,
                    field,
                    str(getattr(row, field)),
                    str(dispute[field]),
                )
    for dispute_id, row in ours.items():
        if dispute_id not in theirs:
            yield Mismatch("dispute", f"order {row.order_id}", dispute_id, "exists", "yes", "no")
