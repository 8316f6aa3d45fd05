"""Contractors' payouts: the schedule we keep of each account, and "Pay out now".

The payouts themselves are Stripe's (recorded from `payout.*` webhooks by
`connect.payout_apply`). What is ours: a copy of each account's payout schedule and
of its pending money by the day it becomes available (so the dashboard can say when
the next payout comes without calling Stripe), and the PayoutRequest rows of
contractors on a manual schedule who ask to be paid now. A request is outbox work
(core/outbox.py): written in the click's transaction, sent by a task under the row's
idempotency key, so a broker outage delays it, a retry never pays twice, and a double
click finds the request already open.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import UserProfile
from core import outbox
from core.commit import after_commit
from core.metrics import MONEY_OPERATIONS
from core.money import format_amount
from core.statemachine import transition
from notifications import events as notify
from payments import gateway
from payments.models import BalanceSnapshot, PayoutRequest, PayoutSchedule

from .connect import account_sync, balance_refresh, payout_apply

logger = logging.getLogger(__name__)


INTERVALS = frozenset(PayoutSchedule.Interval.values)


def _nested(obj: object, *keys: str) -> object:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


class PayoutNotAllowed(Exception):
    """A "Pay out now" that cannot be made, in words fit for the contractor."""


# --- The schedule and the pending money, as last read ------------------------------


def payout_schedule_apply(*, account: dict) -> PayoutSchedule | None:
    """Keep the schedule of an account read from Stripe (a webhook or a refresh)."""
    schedule = _nested(account, "settings", "payouts", "schedule")
    if not isinstance(schedule, dict) or schedule.get("interval") not in INTERVALS:
        return None
    profile = UserProfile.objects.filter(stripe_id=account["id"]).first()
    if profile is None:
        return None
    delay = schedule.get("delay_days")
    record, _ = PayoutSchedule.objects.update_or_create(
        account=account["id"],
        defaults={
            "contractor_id": profile.user_id,
            "interval": schedule["interval"],
            "delay_days": delay if isinstance(delay, int) else 0,
            "weekly_anchor": schedule.get("weekly_anchor") or "",
            "monthly_anchor": schedule.get("monthly_anchor"),
            "fetched_at": timezone.now(),
        },
    )
    return record


def _pending_by_day(transactions: list[dict]) -> list[dict]:
    """Pending money summed per currency and day it becomes available."""
    totals: dict[tuple[str, int], int] = {}
    for txn in transactions:
        key = (txn["currency"], int(txn["available_on"]))
        totals[key] = totals.get(key, 0) + int(txn["net"])
    return [
        {"currency": currency, "available_on": day, "amount": amount}
        for (currency, day), amount in sorted(totals.items(), key=lambda item: item[0][1])
    ]


def payout_outlook_refresh(*, user_id: int, force: bool = False) -> PayoutSchedule | None:
    """Re-read the contractor's schedule and pending money from Stripe (with their
    balance), at most once per BALANCE_REFRESH_MIN_SECONDS unless `force`.

    Raises the gateway's errors: the caller says the figures could not be updated.
    """
    profile = UserProfile.objects.get(user_id=user_id)
    if not profile.stripe_id:
        return None
    stored = PayoutSchedule.objects.filter(account=profile.stripe_id).first()
    fresh_after = timezone.now() - timedelta(seconds=settings.BALANCE_REFRESH_MIN_SECONDS)
    fetched = stored.pending_fetched_at if stored else None
    if not force and fetched is not None and fetched > fresh_after:
        return stored
    # The whole account, not only its schedule: `payouts_enabled` (which "Pay out
    # now" checks) and the requirements come with it (connect.profile_apply_account).
    account_sync(user_id=user_id)
    pending = gateway.balance_pending_list(account=profile.stripe_id)
    balance_refresh(user_id=user_id, force=force)
    schedule = PayoutSchedule.objects.filter(account=profile.stripe_id).first()
    if schedule is not None:
        schedule.pending_funds = _pending_by_day(pending)
        schedule.pending_fetched_at = timezone.now()
        schedule.save(update_fields=["pending_funds", "pending_fetched_at"])
    return schedule


# --- Pay out now -----------------------------------------------------------------------


def _payable_account(user_id: int) -> UserProfile:
    profile = UserProfile.objects.filter(user_id=user_id).first()
    if profile is None or not profile.is_contractor or not profile.stripe_id:
        raise PayoutNotAllowed("Set up your payments account first.")
    if not profile.payouts_enabled:
        raise PayoutNotAllowed("Stripe has not enabled payouts on your account yet.")
    schedule = PayoutSchedule.objects.filter(account=profile.stripe_id).first()
    if schedule is None or schedule.interval != PayoutSchedule.Interval.MANUAL:
        raise PayoutNotAllowed(
            "Your payouts are automatic: Stripe pays your balance out on your schedule."
        )
    return profile


def payout_spendable(*, account: str, currency: str) -> int:
    """What "Pay out now" may take: the last-read available balance less the requests
    Stripe has not taken from it yet (open, or sent after that read)."""
    snapshot = BalanceSnapshot.objects.filter(account=account, currency=currency).first()
    if snapshot is None:
        return 0
    in_flight = PayoutRequest.objects.filter(account=account, currency=currency).filter(
        Q(status=PayoutRequest.Status.REQUESTED)
        | Q(status=PayoutRequest.Status.SENT, sent_at__gte=snapshot.fetched_at)
    )
    taken = in_flight.aggregate(total=Sum("amount"))["total"] or 0
    return max(0, snapshot.available_amount - taken)


def payout_now_request(*, user_id: int, currency: str) -> tuple[PayoutRequest, bool]:
    """Ask Stripe to pay the contractor's whole available `currency` balance out now;
    returns the request and whether this call made it (False: one was already open,
    e.g. a double click).

    The balance is re-read first (an unreachable Stripe leaves the last-read one:
    Stripe checks it again when the request is sent). Raises PayoutNotAllowed.
    """
    from payments.tasks import payout_request_execute_task

    profile = _payable_account(user_id)
    try:
        balance_refresh(user_id=user_id, force=True)
    except gateway.GatewayError:  # unreachable or refused: Stripe checks it on sending
        logger.info("Balance of user %s not re-read before a payout request", user_id)
    try:
        with transaction.atomic():
            # One request at a time per contractor: each sees what the previous took.
            UserProfile.objects.select_for_update().get(pk=profile.pk)
            open_request = PayoutRequest.objects.filter(
                account=profile.stripe_id, currency=currency, status=PayoutRequest.Status.REQUESTED
            ).first()
            if open_request is not None:
                return open_request, False
            amount = payout_spendable(account=profile.stripe_id, currency=currency)
            if amount <= 0:
                raise PayoutNotAllowed(
                    f"You have no available {currency.upper()} balance to pay out yet."
                )
            request = PayoutRequest.objects.create(
                contractor_id=user_id,
                account=profile.stripe_id,
                amount=amount,
                currency=currency,
                **outbox.first_dispatch(),
            )
            outbox.enqueue_on_commit(payout_request_execute_task, request.pk)
    except IntegrityError:
        # Another process opened one between our read and our write (the constraint).
        existing = PayoutRequest.objects.get(
            account=profile.stripe_id, currency=currency, status=PayoutRequest.Status.REQUESTED
        )
        return existing, False
    return request, True


def payout_request_execute(*, request_id: int) -> PayoutRequest:
    """Send a requested payout to Stripe under the row's idempotency key.

    Stripe refusing it (the balance went lower, the schedule changed) marks it
    refused with the reason; an unreachable Stripe raises GatewayUnavailable for
    the task to retry, with the same key.
    """
    request = PayoutRequest.objects.get(pk=request_id)
    if request.status != PayoutRequest.Status.REQUESTED:
        return request
    try:
        payout = gateway.payout_create(
            account=request.account,
            amount=request.amount,
            currency=request.currency,
            request_id=request.pk,
            idempotency_key=f"payout-request-{request.pk}",
        )
    except gateway.GatewayRejected as exc:
        with transaction.atomic():
            request, _ = transition(
                PayoutRequest,
                request.pk,
                PayoutRequest.Status.REFUSED,
                changes={"failure_message": exc.user_message[:1000]},
            )
            after_commit(notify.payout_request_refused, request)
        MONEY_OPERATIONS.labels("payout", "failed").inc()
        return request
    MONEY_OPERATIONS.labels("payout", "succeeded").inc()
    with transaction.atomic():
        request, _ = transition(
            PayoutRequest,
            request.pk,
            PayoutRequest.Status.SENT,
            changes={"stripe_payout_id": payout["id"], "sent_at": timezone.now()},
        )
    # Shown on the dashboard at once; its webhooks bring it up to date after.
    payout_apply(payout=payout, account=request.account)
    logger.info(
        "Payout %s of %s for %s",
        payout["id"],
        format_amount(request.amount, request.currency),
        request.account,
    )
    return request
