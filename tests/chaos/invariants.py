"""What must hold after every fault, read from the sandbox's own state and the shop's
database, and how long it took to hold.

An operation is *done* when the sandbox answered its write with a 200 (the request
log's time of the first one); *settled* when the shop's rows say so too, no webhook
event is left unprocessed and none is still to be delivered (a delivery that failed
during the fault and waits for its retry). Then, against the sandbox's state:

- every PaymentIntent captured at most once: one idempotency key (of the series
  `payment-N-capture`, `…/retry-1` …) ever accepted for its capture, at most one
  transfer from its charge, `amount_received` never above the amount;
- every fulfilled order captured (`status` succeeded, the amount received);
- every requested refund sent exactly once: one Stripe refund per `metadata
  [refund_id]`, for the amount asked; no refund we did not ask for; the refunds of
  an intent never above what it captured;
- our books: no refund recorded twice, and `payments_health` and `reconcile`
  (with HEALTH_OVERDUE_SECONDS=0: everything must be done *now*) exit 0.
"""

from __future__ import annotations

import io
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.management import CommandError, call_command
from django.db import DatabaseError, close_old_connections, connection
from django.test.utils import override_settings

from payments.models import Payment, Refund, StripeEvent
from shop.models import Order

from .sandbox import Sandbox

CAPTURE = re.compile(r"^/v1/payment_intents/(pi_[A-Za-z0-9]+)/capture$")
# Our keys carry the install's prefix (payments/gateway/keys.py): `<prefix>:refund-12`.
REFUND_KEY = re.compile(r"(?:^|:)refund-(\d+)(?:/retry-\d+)?$")
OUTSIDE_NOTE = "Made outside the shop"


@dataclass(frozen=True)
class Operation:
    """One money operation the shop was asked for and must carry to Stripe."""

    kind: str  # "capture" or "refund"
    payment_id: int
    intent: str
    amount: int
    refund_id: int = 0

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.refund_id or self.payment_id)

    def __str__(self) -> str:
        if self.kind == "refund":
            return f"refund #{self.refund_id} of payment #{self.payment_id} ({self.intent})"
        return f"capture of payment #{self.payment_id} ({self.intent})"


def captures_of(orders: Iterable[Order]) -> list[Operation]:
    payments = Payment.objects.filter(order__in=list(orders)).order_by("pk")
    return [
        Operation("capture", p.pk, p.stripe_payment_intent_id or "", p.amount) for p in payments
    ]


def refunds_of(payments: Iterable[Payment]) -> list[Operation]:
    """Every refund row of these payments (the rows the staff's requests made)."""
    refunds = Refund.objects.filter(payment__in=list(payments)).select_related("payment")
    return [
        Operation("refund", r.payment_id, r.payment.stripe_payment_intent_id or "", r.amount, r.pk)
        for r in refunds.order_by("pk")
        if OUTSIDE_NOTE not in r.note
    ]


# --- done: the sandbox's request log ----------------------------------------------------


def _first_success(calls: list[dict]) -> dict[tuple[str, object], float]:
    """{("capture", intent) / ("refund", refund pk): time of the first 200}."""
    first: dict[tuple[str, object], float] = {}
    for call in calls:
        if call["method"] != "POST" or call["status"] != 200:
            continue
        key = _call_key(call)
        if key is not None and key not in first:
            first[key] = call["t"]
    return first


def _call_key(call: dict) -> tuple[str, object] | None:
    match = CAPTURE.match(call["path"])
    if match:
        return ("capture", match.group(1))
    if call["path"] == "/v1/refunds":
        key = REFUND_KEY.search(call["headers"].get("Idempotency-Key", ""))
        if key:
            return ("refund", int(key.group(1)))
    return None


def done_times(sandbox: Sandbox, ops: list[Operation]) -> dict[tuple[str, int], float]:
    """When the sandbox first accepted each operation's write, for those it did."""
    first = _first_success(sandbox.requests("/v1/"))
    done = {}
    for op in ops:
        at = first.get(("capture", op.intent) if op.kind == "capture" else ("refund", op.refund_id))
        if at is not None:
            done[op.key] = at
    return done


# --- settled: the shop's rows -------------------------------------------------------------


# (the operation's key, or None for the stack as a whole; what is still waiting)
Waiting = tuple[tuple[str, int] | None, str]


def unsettled(ops: list[Operation]) -> list[Waiting]:
    """What the shop has not recorded yet (empty: everything is)."""
    close_old_connections()
    try:
        return _unsettled(ops)
    except DatabaseError as exc:
        connection.close()  # the database went away under this process too
        return [(None, f"database unreachable: {exc}".splitlines()[0])]


def _unsettled(ops: list[Operation]) -> list[Waiting]:
    waiting: list[Waiting] = []
    payments = Payment.objects.in_bulk([op.payment_id for op in ops if op.kind == "capture"])
    refunds = Refund.objects.in_bulk([op.refund_id for op in ops if op.kind == "refund"])
    for op in ops:
        if op.kind == "capture":
            payment = payments[op.payment_id]
            if payment.status != Payment.Status.CAPTURED:
                waiting.append((op.key, f"{op}: {payment.status}"))
        else:
            row = refunds[op.refund_id]
            if row.status == Refund.Status.REQUESTED or not row.stripe_refund_id:
                waiting.append((op.key, f"{op}: {row.status}"))
    events = StripeEvent.objects.filter(
        status__in=[StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED]
    ).count()
    if events:
        waiting.append((None, f"{events} webhook event(s) unprocessed"))
    return waiting


@dataclass
class Progress:
    done: dict[tuple[str, int], float]
    settled_at: float | None
    waiting: list[Waiting]

    def stranded(self, ops: list[Operation]) -> int:
        """Operations not accepted by the sandbox, or not recorded by the shop."""
        unrecorded = {key for key, _ in self.waiting if key is not None}
        return sum(1 for op in ops if op.key not in self.done or op.key in unrecorded)


def wait(
    sandbox: Sandbox,
    ops: list[Operation],
    *,
    timeout: float,
    tick: Callable[[], None] = lambda: None,
) -> Progress:
    """Poll until every operation is done at the sandbox and settled here (or timeout);
    `tick` runs each round (the harness restarts a process that died on its own)."""
    deadline = time.time() + timeout
    while True:
        tick()
        done = done_times(sandbox, ops)
        waiting = unsettled(ops)
        retrying = sandbox.deliveries_retrying()
        if retrying:
            waiting.append((None, f"{retrying} webhook deliveries to be retried by the sandbox"))
        if len(done) == len(ops) and not waiting:
            return Progress(done, time.time(), [])
        if time.time() > deadline:
            return Progress(done, None, waiting)
        time.sleep(0.25)


# --- the invariants ---------------------------------------------------------------------


@dataclass
class Findings:
    duplicated: list[str] = field(default_factory=list)  # an operation done twice
    problems: list[str] = field(default_factory=list)  # any other broken invariant
    notes: list[str] = field(default_factory=list)  # worth knowing, not an invariant


def check(sandbox: Sandbox, ops: list[Operation]) -> Findings:
    found = Findings()
    calls = sandbox.requests("/v1/")
    _check_captures(sandbox, calls, [op for op in ops if op.kind == "capture"], found)
    _check_refunds(sandbox, [op for op in ops if op.kind == "refund"], found)
    _check_books(ops, found)
    _check_commands(found)
    return found


def _accepted_capture_keys(calls: list[dict]) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        match = CAPTURE.match(call["path"])
        if match and call["method"] == "POST" and call["status"] == 200:
            keys[match.group(1)].add(call["headers"].get("Idempotency-Key", "(none)"))
    return keys


def _check_captures(sandbox: Sandbox, calls: list[dict], ops: list[Operation], found: Findings):
    accepted = _accepted_capture_keys(calls)
    transfers: dict[str, list[dict]] = {}
    for op in ops:
        intent = sandbox.api("GET", f"/v1/payment_intents/{op.intent}")
        received, charge = intent["amount_received"], intent["latest_charge"]
        keys = sorted(accepted.get(op.intent, ()))
        if len(keys) > 1:
            found.duplicated.append(f"{op}: captures accepted under keys {keys}")
        if received > intent["amount"]:
            found.duplicated.append(f"{op}: received {received} of {intent['amount']}")
        if intent["status"] != "succeeded":
            continue  # not captured: stranded, counted by the caller
        if received != op.amount:
            found.problems.append(f"{op}: captured {received}, expected {op.amount}")
        destination = intent["transfer_data"]["destination"]
        if destination not in transfers:
            transfers[destination] = sandbox.list_all("/v1/transfers", {"destination": destination})
        made = [t for t in transfers[destination] if t.get("source_transaction") == charge]
        if len(made) > 1:
            found.duplicated.append(f"{op}: {len(made)} transfers from charge {charge}")


def _refund_claim(stripe_refund: dict) -> str:
    """The refund row a Stripe refund says it was made for (our metadata)."""
    return (stripe_refund.get("metadata") or {}).get("refund_id", "")


def _check_refunds(sandbox: Sandbox, ops: list[Operation], found: Findings) -> None:
    by_intent: dict[str, list[Operation]] = defaultdict(list)
    for op in ops:
        by_intent[op.intent].append(op)
    for intent_id, intent_ops in by_intent.items():
        intent = sandbox.api("GET", f"/v1/payment_intents/{intent_id}")
        stripe_refunds = sandbox.list_all("/v1/refunds", {"payment_intent": intent_id})
        sent = Counter(_refund_claim(r) for r in stripe_refunds)
        amounts = {_refund_claim(r): r["amount"] for r in stripe_refunds}
        for op in intent_ops:
            claim = str(op.refund_id)
            times = sent.pop(claim, 0)
            if times > 1:
                found.duplicated.append(f"{op}: sent to Stripe {times} times")
            if times and amounts[claim] != op.amount:
                found.problems.append(f"{op}: refunded {amounts[claim]}, asked {op.amount}")
        for claim, times in sent.items():
            found.problems.append(f"{intent_id}: {times} refund(s) nobody asked for ({claim!r})")
        live = [r for r in stripe_refunds if r["status"] not in ("failed", "canceled")]
        total, captured = sum(r["amount"] for r in live), intent["amount_received"]
        if total > captured:
            found.problems.append(f"{intent_id}: refunded {total} of {captured} captured")


def _check_books(ops: list[Operation], found: Findings) -> None:
    """A refund recorded twice shows as a second row "made outside the shop"; an order
    whose status moved backwards (a late event) no longer matches its payment. A
    captured payment still marked for capture is reported, not failed: the money is
    right, only the row's to-do marker is stale."""
    close_old_connections()
    payment_ids = {op.payment_id for op in ops}
    for payment in Payment.objects.filter(pk__in=payment_ids).select_related("order"):
        expected = _order_status(payment)
        if payment.order.status != expected:
            found.problems.append(
                f"order #{payment.order_id} is {payment.order.status}, its payment says {expected}"
            )
    stale = Payment.objects.filter(
        pk__in=payment_ids, status=Payment.Status.CAPTURED, action=Payment.Action.CAPTURE
    ).values_list("pk", flat=True)
    if stale:
        found.notes.append(f"captured but still action=capture: payments {sorted(stale)}")
    for refund in Refund.objects.filter(payment_id__in=payment_ids, note__contains=OUTSIDE_NOTE):
        found.duplicated.append(f"refund #{refund.pk} ({refund.stripe_refund_id}) recorded twice")


def _order_status(payment: Payment) -> str:
    """The status the order of a payment should have, from the payment's amounts."""
    if payment.status != Payment.Status.CAPTURED:
        return f"(payment {payment.status})"
    if not payment.amount_refunded:
        return Order.Status.CAPTURED
    if payment.amount_refunded >= payment.amount_captured:
        return Order.Status.REFUNDED
    return Order.Status.PARTIALLY_REFUNDED


def _check_commands(found: Findings) -> None:
    """The operator's own checks, strict: anything not done *now* counts (run in this
    process, with the stack's settings: a process each would cost 4 s)."""
    for command in (("payments_health",), ("reconcile", "--days", "1")):
        code, output = _call(*command)
        if code != 0:
            flagged = [line for line in output.splitlines() if line.strip()]
            flagged = [line for line in flagged if not line.startswith("ok ")][:8]
            found.problems.append(f"{command[0]} exit {code}: " + " | ".join(flagged))


def _call(*command: str) -> tuple[int, str]:
    out = io.StringIO()
    close_old_connections()
    with override_settings(HEALTH_OVERDUE_SECONDS=0):
        try:
            call_command(*command, stdout=out, stderr=out)
        except SystemExit as exit_:
            return int(exit_.code or 0), out.getvalue()
        except CommandError as exc:
            return 1, f"{out.getvalue()}\n{exc}"
    return 0, out.getvalue()
