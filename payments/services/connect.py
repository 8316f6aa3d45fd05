"""Contractors' connected accounts: creation, onboarding, status, balances, payouts."""

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import UserProfile
from accounts.requirements import requirement_labels
from core.commit import after_commit
from notifications import events as notify
from payments import gateway
from payments.models import BalanceSnapshot, Payout
from shop.services import seller_products_sync

from .profiles import profile_stripe_object_ensure

logger = logging.getLogger(__name__)

ACCOUNT_TYPES = {"hosted": "express", "custom": "custom"}


def contractor_account_ensure(*, user_id: int) -> str:
    """The contractor's `acct_…` id, creating the connected account once.

    Express accounts for hosted onboarding, custom ones for our own form
    (`CONNECT_ONBOARDING`). The idempotency key comes from the user
    (see `profile_stripe_object_ensure`).
    """
    account_id, created = profile_stripe_object_ensure(
        user_id=user_id,
        role=UserProfile.Role.CONTRACTOR,
        kind="a connected account",
        create=lambda profile: gateway.account_create(
            email=profile.user.email,
            user_id=user_id,
            account_type=ACCOUNT_TYPES.get(settings.CONNECT_ONBOARDING, "express"),
            country=settings.CONNECT_COUNTRY,
            idempotency_key=f"user-{user_id}-account",
        ),
    )
    if created is not None:
        profile_apply_account(created)
    return account_id


def profile_apply_account(account: dict) -> UserProfile | None:
    """Copy an account's capabilities and outstanding requirements onto its profile."""
    requirements = account.get("requirements") or {}
    with transaction.atomic():
        profile = (
            UserProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(stripe_id=account["id"])
            .first()
        )
        if profile is None:
            return None
        was_due = list(profile.requirements.get("currently_due") or [])
        was_enabled = profile.charges_enabled
        profile.charges_enabled = bool(account.get("charges_enabled"))
        profile.payouts_enabled = bool(account.get("payouts_enabled"))
        profile.details_submitted = bool(account.get("details_submitted"))
        profile.requirements = {
            key: requirements.get(key)
            for key in ("currently_due", "eventually_due", "past_due", "disabled_reason")
            if requirements.get(key) is not None
        }
        profile.save(
            update_fields=[
                "charges_enabled",
                "payouts_enabled",
                "details_submitted",
                "requirements",
                "updated_at",
            ]
        )
        seller_products_sync(profile=profile)  # in or out of the catalogue with the account
        from .payouts import payout_schedule_apply  # payouts builds on this module

        payout_schedule_apply(account=account)  # when money goes to the bank
        due = list(requirements.get("currently_due") or [])
        newly_restricted = was_enabled and not profile.charges_enabled
        if (due and sorted(due) != sorted(was_due)) or newly_restricted:
            after_commit(notify.requirements_due, profile, due, requirement_labels(due))
        if profile.charges_enabled and not was_enabled:
            # Stripe finished checking (often after the contractor left its pages).
            after_commit(notify.charges_enabled, profile)
    return profile


def account_sync(*, user_id: int) -> UserProfile:
    """Re-read the contractor's account from Stripe (the onboarding return page)."""
    profile = UserProfile.objects.get(user_id=user_id)
    if profile.stripe_id:
        profile = (
            profile_apply_account(gateway.account_retrieve(account=profile.stripe_id)) or profile
        )
    return profile


def onboarding_link_create(*, user_id: int, refresh_url: str, return_url: str) -> str:
    """A fresh, single-use Account Link URL for hosted onboarding.

    Each link is a new object at Stripe, so each call gets a new idempotency key.
    """
    account = contractor_account_ensure(user_id=user_id)
    link = gateway.account_link_create(
        account=account,
        refresh_url=refresh_url,
        return_url=return_url,
        idempotency_key=f"user-{user_id}-link-{uuid.uuid4()}",
    )
    return link["url"]


# --- Balances -----------------------------------------------------------------------


def _sum_by_currency(funds: Iterable[dict]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for fund in funds:
        totals[fund["currency"]] = totals.get(fund["currency"], 0) + fund["amount"]
    return totals


def balance_refresh(*, user_id: int, force: bool = False) -> list[BalanceSnapshot]:
    """Read the contractor's balance from Stripe into BalanceSnapshot rows.

    Without `force`, a snapshot younger than BALANCE_REFRESH_MIN_SECONDS is kept:
    a contractor hammering "refresh" costs one Stripe call per interval.
    """
    profile = UserProfile.objects.get(user_id=user_id)
    snapshots = list(BalanceSnapshot.objects.filter(contractor_id=user_id))
    if not profile.stripe_id:
        return snapshots
    fresh_after = timezone.now() - timedelta(seconds=settings.BALANCE_REFRESH_MIN_SECONDS)
    if not force and snapshots and min(s.fetched_at for s in snapshots) > fresh_after:
        return snapshots
    balance = gateway.balance_retrieve(account=profile.stripe_id)
    available = _sum_by_currency(balance.get("available", []))
    pending = _sum_by_currency(balance.get("pending", []))
    now = timezone.now()
    with transaction.atomic():
        for currency in sorted(set(available) | set(pending)):
            BalanceSnapshot.objects.update_or_create(
                account=profile.stripe_id,
                currency=currency,
                defaults={
                    "contractor_id": user_id,
                    "available_amount": available.get(currency, 0),
                    "pending_amount": pending.get(currency, 0),
                    "fetched_at": now,
                },
            )
    return list(BalanceSnapshot.objects.filter(contractor_id=user_id).order_by("currency"))


def balances_sweep(
    *, rate_per_sec: float | None = None, sleep=time.sleep, clock=time.monotonic
) -> dict[str, int]:
    """Refresh every onboarded contractor's balance, paced under Stripe's rate limit.

    Calls are spaced 1/rate seconds apart; a 429 doubles the spacing for a while
    and the same contractor is tried again, so none is skipped. Returns counts.
    """
    rate = rate_per_sec or settings.STRIPE_RATE_LIMIT_PER_SEC
    interval = 1.0 / rate
    contractors = UserProfile.objects.filter(
        role=UserProfile.Role.CONTRACTOR, stripe_id__startswith="acct_"
    ).values_list("user_id", flat=True)
    stats = {"refreshed": 0, "rate_limited": 0, "failed": 0}
    next_call = clock()
    backoff = 1.0
    for user_id in contractors.iterator(chunk_size=500):
        for _attempt in range(8):
            wait = next_call - clock()
            if wait > 0:
                sleep(wait)
            next_call = max(next_call, clock()) + interval * backoff
            try:
                balance_refresh(user_id=user_id, force=True)
            except gateway.RateLimited:
                stats["rate_limited"] += 1
                backoff = min(backoff * 2, 16.0)
                continue
            except gateway.GatewayError as exc:
                logger.warning("Balance of user %s not refreshed: %s", user_id, exc)
                stats["failed"] += 1
            else:
                stats["refreshed"] += 1
                backoff = max(1.0, backoff / 2)
            break
        else:
            stats["failed"] += 1
    return stats


# --- Payouts ------------------------------------------------------------------------


# Stripe's payout statuses in the order they happen; the last three are final.
# A payout Stripe reported paid can still fail later (the bank returns it), never the
# other way round: failed is the last word.
PAYOUT_PROGRESS = {"pending": 0, "in_transit": 1, "paid": 2, "canceled": 2, "failed": 3}


def payout_apply(*, payout: dict, account: str) -> Payout | None:
    """Record a payout of a connected account from a payout.* webhook (never backwards).

    `account` is the account the event came from, which owns the payout; a payout
    already recorded for another account is left alone (returns None).
    """
    profile = UserProfile.objects.filter(stripe_id=account).first()
    if profile is None:
        return None
    arrival = payout.get("arrival_date")
    fields = {
        "contractor_id": profile.user_id,
        "account": account,
        "amount": payout["amount"],
        "currency": payout["currency"],
        "status": payout["status"],
        "arrival_date": datetime.fromtimestamp(arrival, tz=UTC) if arrival else None,
        "failure_message": payout.get("failure_message") or "",
        "failure_code": payout.get("failure_code") or "",
        "automatic": bool(payout.get("automatic", True)),
    }
    with transaction.atomic():
        record = Payout.objects.select_for_update().filter(stripe_id=payout["id"]).first()
        if record is None:
            record = Payout.objects.create(stripe_id=payout["id"], **fields)
        elif record.account != account:
            # Never move a payout to another contractor (the webhook route refuses it first).
            logger.warning("Payout %s is %s's, not %s's", record.stripe_id, record.account, account)
            return None
        elif PAYOUT_PROGRESS.get(payout["status"], 0) < PAYOUT_PROGRESS.get(record.status, 0):
            return record  # a late event about an earlier state
        else:
            for name, value in fields.items():
                setattr(record, name, value)
            record.save()
        after_commit(notify.payout_changed, record)
    return record
