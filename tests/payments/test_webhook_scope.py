"""Webhook scope: an event changes only what its endpoint and account own.

The matrix runs every registered event type (read from the registry, so a new
handler is covered as soon as it is registered) from four sources: the platform
endpoint, the Connect endpoint with the account that owns the object, with another
contractor's account, and with an account that is no contractor's. Events are
POSTed, signed, to the real endpoints, then processed with `event_process`.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User, UserProfile
from notifications.models import Notification
from payments import gateway
from payments.models import BalanceSnapshot, Payment, Payout, Refund, StripeEvent
from payments.services import connect
from payments.services.events import event_process
from payments.webhooks.registry import CONNECT, PLATFORM, handles, routes
from shop.models import Order, Product
from tests.factories import (
    BuyerFactory,
    ContractorFactory,
    PaymentFactory,
    ProductFactory,
    RefundFactory,
    payment_intent_snapshot,
)
from tests.payments.webhook_helpers import event, post_event

pytestmark = pytest.mark.django_db

OWNER = "acct_scopeowner"  # the contractor whose objects every event names
OTHER = "acct_scopeother"  # another contractor
UNKNOWN = "acct_scopenobody"  # no contractor's account
CHARGE = "ch_scope"
URLS = {
    PLATFORM: reverse("payments:webhook_platform"),
    CONNECT: reverse("payments:webhook_connect"),
}
SECRETS = {PLATFORM: "whsec_platform_test", CONNECT: "whsec_connect_test"}
# The four sources: (endpoint, account the Connect event names).
SOURCES = {
    "platform": (PLATFORM, None),
    "connect-owner": (CONNECT, OWNER),
    "connect-other": (CONNECT, OTHER),
    "connect-unknown": (CONNECT, UNKNOWN),
}
# Every row a handler could touch; compared before and after each event.
WATCHED = [Payment, Refund, Order, UserProfile, Payout, BalanceSnapshot, Notification, Product]


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRETS[PLATFORM]
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = SECRETS[CONNECT]


@pytest.fixture
def stripe_reads(monkeypatch):
    """The Stripe reads handlers make, faked; any other Stripe call fails the test."""
    fake = mock.MagicMock()
    fake.account_retrieve.side_effect = lambda *, account: {
        "id": account,
        "object": "account",
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "requirements": {"currently_due": []},
    }
    fake.balance_retrieve.return_value = {
        "object": "balance",
        "available": [{"amount": 8970, "currency": "usd"}],
        "pending": [{"amount": 0, "currency": "usd"}],
    }
    fake.refund_list.return_value = [
        {
            "id": "re_scope_dashboard",
            "object": "refund",
            "amount": 700,
            "currency": "usd",
            "status": "succeeded",
            "charge": CHARGE,
            "payment_intent": "pi_scope_captured",
            "metadata": {},
        }
    ]
    for name in ("account_retrieve", "balance_retrieve", "refund_list"):
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    monkeypatch.setattr(gateway, "client", mock.Mock(side_effect=AssertionError("Stripe call")))
    return fake


@dataclass
class World:
    owner: User
    other: User
    pending: Payment  # the owner's, awaiting the card: intents move it
    captured: Payment  # the owner's, captured: refunds, disputes, transfers touch it
    refund: Refund  # asked for on `captured`, not yet at Stripe
    payout: Payout  # the owner's, on its way to the bank


@pytest.fixture
def world(db) -> World:
    # No passwords: hashing them was most of this fixture's time, times 100 tests.
    owner = ContractorFactory(profile__stripe_id=OWNER, password=None)
    other = ContractorFactory(profile__stripe_id=OTHER, password=None)
    buyer = BuyerFactory(password=None)
    ProductFactory(seller=owner)
    pending = PaymentFactory(
        order__seller=owner,
        order__buyer=buyer,
        destination_account=OWNER,
        stripe_payment_intent_id="pi_scope_pending",
    )
    captured = PaymentFactory(
        order__seller=owner,
        order__buyer=buyer,
        order__status=Order.Status.CAPTURED,
        destination_account=OWNER,
        stripe_payment_intent_id="pi_scope_captured",
        stripe_charge_id=CHARGE,
        status=Payment.Status.CAPTURED,
        amount_authorized=2500,
        amount_captured=2500,
    )
    refund = RefundFactory(payment=captured, amount=500)
    payout = Payout.objects.create(
        stripe_id="po_scope",
        contractor=owner,
        account=OWNER,
        amount=7470,
        currency="usd",
        status="in_transit",
    )
    return World(owner, other, pending, captured, refund, payout)


# --- What each kind of object looks like, all of them the owner's --------------------


def _payment_intent(w: World) -> dict:
    return payment_intent_snapshot(w.pending, "requires_capture", latest_charge="ch_scope_pending")


def _dispute(w: World) -> dict:
    return {
        "id": "dp_scope",
        "object": "dispute",
        "amount": 2500,
        "currency": "usd",
        "charge": CHARGE,
        "payment_intent": w.captured.stripe_payment_intent_id,
        "reason": "fraudulent",
    }


def _transfer(w: World) -> dict:
    return {
        "id": "tr_scope",
        "object": "transfer",
        "amount": 2220,
        "currency": "usd",
        "destination": OWNER,
        "source_transaction": CHARGE,
    }


def _refund(w: World) -> dict:
    return {
        "id": "re_scope",
        "object": "refund",
        "amount": w.refund.amount,
        "currency": "usd",
        "status": "succeeded",
        "charge": CHARGE,
        "payment_intent": w.captured.stripe_payment_intent_id,
        "metadata": {"refund_id": str(w.refund.pk)},
    }


def _charge(w: World) -> dict:
    return {
        "id": CHARGE,
        "object": "charge",
        "amount": 2500,
        "amount_refunded": 700,
        "currency": "usd",
        "payment_intent": w.captured.stripe_payment_intent_id,
        "refunded": False,
    }


def _account(w: World) -> dict:
    return {"id": OWNER, "object": "account", "charges_enabled": True, "payouts_enabled": True}


def _payout(w: World) -> dict:
    return {
        "id": w.payout.stripe_id,
        "object": "payout",
        "amount": w.payout.amount,
        "currency": "usd",
        "status": "paid",
        "arrival_date": int(time.time()),
        "destination": {"id": "ba_scope", "object": "bank_account", "account": OWNER},
    }


def _balance(w: World) -> dict:
    return {
        "object": "balance",
        "available": [{"amount": 8970, "currency": "usd"}],
        "pending": [{"amount": 0, "currency": "usd"}],
    }


@dataclass(frozen=True)
class Kind:
    endpoint: str  # where Stripe sends events about this kind of object
    build: Callable[[World], dict]


# Platform objects: a destination charge's intent, charge, refunds and dispute, and the
# transfer, are the platform's (it is merchant of record). Connect objects: the account
# itself, its payouts and its balance, sent with the connected account in `account`.
KINDS = {
    "payment_intent": Kind(PLATFORM, _payment_intent),
    "dispute": Kind(PLATFORM, _dispute),
    "transfer": Kind(PLATFORM, _transfer),
    "refund": Kind(PLATFORM, _refund),
    "charge": Kind(PLATFORM, _charge),
    "account": Kind(CONNECT, _account),
    "payout": Kind(CONNECT, _payout),
    "balance": Kind(CONNECT, _balance),
}


def snapshot() -> dict[str, list[dict]]:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}


def deliver(event_type: str, obj: dict, source: str) -> StripeEvent:
    """POST the event, signed, to the source's endpoint; process it; return its row."""
    endpoint, account = SOURCES[source]
    body = event(event_type, obj, account=account)
    response = post_event(Client(), URLS[endpoint], body, SECRETS[endpoint])
    assert response.status_code == 200, response.content
    stored = StripeEvent.objects.get(stripe_id=body["id"])
    assert (stored.endpoint, stored.account) == (endpoint, account or "")
    event_process(event_id=stored.pk)
    stored.refresh_from_db()
    return stored


def test_every_registered_kind_has_a_scope_matrix_builder():
    missing = {route.kind for route in routes().values()} - set(KINDS)
    assert not missing, f"add an object builder to KINDS for {sorted(missing)}"


def test_every_kind_is_accepted_from_where_stripe_sends_it():
    wrong = {
        event_type: route.endpoint
        for event_type, route in routes().items()
        if route.kind in KINDS and route.endpoint != KINDS[route.kind].endpoint
    }
    assert not wrong


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("event_type", sorted(routes()))
def test_scope_matrix(event_type, source, world, stripe_reads, celery_eager, caplog):
    kind = routes()[event_type].kind
    expected_endpoint = KINDS[kind].endpoint
    owner_source = "platform" if expected_endpoint == PLATFORM else "connect-owner"
    before = snapshot()

    stored = deliver(event_type, KINDS[kind].build(world), source)

    after = snapshot()
    if source == owner_source:
        assert (stored.status, stored.last_error) == (StripeEvent.Status.PROCESSED, "")
        assert after != before, "the matrix's object should make the owner's event change a row"
    elif kind == "balance" and source == "connect-other":
        # A balance has no id of its own: whichever contractor's account sends it, it
        # is that contractor's balance, and only theirs is refreshed.
        assert stored.status == StripeEvent.Status.PROCESSED
        assert {row["account"] for row in after["BalanceSnapshot"]} == {OTHER}
        assert {k: v for k, v in after.items() if k != "BalanceSnapshot"} == {
            k: v for k, v in before.items() if k != "BalanceSnapshot"
        }
    else:
        assert stored.status == StripeEvent.Status.IGNORED
        assert stored.last_error.startswith("ignored: ")
        assert stored.processed_at is not None
        assert stored.attempts == 1
        assert after == before
        assert not stripe_reads.mock_calls, "no Stripe read on behalf of a refused event"
        assert stored.last_error in caplog.text


# --- The audit's cases ---------------------------------------------------------------


@pytest.mark.parametrize("source", ["connect-other", "connect-owner"])
def test_connect_refund_event_cannot_rename_a_platform_refund(world, stripe_reads, source):
    """A Connect refund.updated (a connected account's own refund) naming our refund in
    its metadata once rewrote the platform refund's Stripe id. It is ignored now, from
    any connected account, the payment's own destination included."""
    Refund.objects.filter(pk=world.refund.pk).update(
        stripe_refund_id="re_platform", status=Refund.Status.PENDING
    )
    forged = {**_refund(world), "id": "re_connect", "status": "failed"}
    before = snapshot()

    stored = deliver("refund.updated", forged, source)

    account = SOURCES[source][1]
    assert stored.status == StripeEvent.Status.IGNORED
    assert (
        stored.last_error
        == f"ignored: connect event from {account} for refund owned by the platform"
    )
    assert snapshot() == before
    world.refund.refresh_from_db()
    assert (world.refund.stripe_refund_id, world.refund.status) == ("re_platform", "pending")


def test_a_refund_naming_a_refund_that_has_its_stripe_id_does_not_rename_it(world, stripe_reads):
    """Even from the platform, metadata is only a claim: a row keeps its Stripe id."""
    Refund.objects.filter(pk=world.refund.pk).update(stripe_refund_id="re_platform")
    other = {**_refund(world), "id": "re_second", "amount": 300}

    assert deliver("refund.created", other, "platform").status == StripeEvent.Status.PROCESSED

    world.refund.refresh_from_db()
    assert world.refund.stripe_refund_id == "re_platform"
    recorded = Refund.objects.get(stripe_refund_id="re_second")  # a refund of its own
    assert (recorded.payment_id, recorded.amount) == (world.captured.pk, 300)


def test_a_refund_of_another_payment_does_not_take_our_refunds_id(world, stripe_reads):
    elsewhere = PaymentFactory(
        order__seller=world.other,
        order__buyer=world.pending.order.buyer,
        destination_account=OTHER,
        status=Payment.Status.CAPTURED,
        amount_authorized=2500,
        amount_captured=2500,
    )
    claim = {**_refund(world), "payment_intent": elsewhere.stripe_payment_intent_id, "charge": ""}

    deliver("refund.updated", claim, "platform")

    world.refund.refresh_from_db()
    assert world.refund.stripe_refund_id is None
    assert Refund.objects.get(stripe_refund_id="re_scope").payment_id == elsewhere.pk


def test_connect_payout_from_another_contractor_is_not_recorded_as_theirs(world, stripe_reads):
    """A Connect payout.paid for $999,999 from another contractor's account, naming the
    owner's payout, once rewrote it. Now it is ignored and nobody's payout changes."""
    forged = {**_payout(world), "amount": 99_999_900, "destination": "ba_other"}
    before = snapshot()

    stored = deliver("payout.paid", forged, "connect-other")

    assert stored.status == StripeEvent.Status.IGNORED
    assert stored.last_error == (
        f"ignored: connect event from {OTHER} for payout po_scope owned by {OWNER}"
    )
    assert snapshot() == before


def test_connect_payout_claiming_another_accounts_destination_is_ignored(world, stripe_reads):
    forged = {
        **_payout(world),
        "id": "po_new",
        "amount": 99_999_900,
        "destination": {"id": "ba_scope", "object": "bank_account", "account": OWNER},
    }
    before = snapshot()

    stored = deliver("payout.paid", forged, "connect-other")

    assert stored.status == StripeEvent.Status.IGNORED
    assert stored.last_error == f"ignored: connect event from {OTHER} for payout po_new to {OWNER}"
    assert snapshot() == before
    assert not Payout.objects.filter(stripe_id="po_new").exists()


def test_a_contractors_own_new_payout_is_recorded_as_theirs(world, stripe_reads):
    own = {**_payout(world), "id": "po_other", "amount": 1200, "destination": "ba_other"}

    assert deliver("payout.paid", own, "connect-other").status == StripeEvent.Status.PROCESSED

    payout = Payout.objects.get(stripe_id="po_other")
    assert (payout.contractor, payout.account, payout.amount) == (world.other, OTHER, 1200)


def test_payout_apply_never_moves_a_payout_to_another_account(world):
    assert connect.payout_apply(payout={**_payout(world), "amount": 1}, account=OTHER) is None
    world.payout.refresh_from_db()
    assert (world.payout.account, world.payout.amount, world.payout.status) == (
        OWNER,
        7470,
        "in_transit",
    )


# --- The other rules, one case each ----------------------------------------------------


def test_a_transfer_to_another_account_is_not_matched_to_the_payment(world, stripe_reads):
    stored = deliver("transfer.created", {**_transfer(world), "destination": OTHER}, "platform")

    assert stored.status == StripeEvent.Status.IGNORED
    assert stored.last_error == (
        f"ignored: transfer tr_scope to {OTHER} for charge {CHARGE} of a payment to {OWNER}"
    )
    world.captured.refresh_from_db()
    assert world.captured.stripe_transfer_id == ""


def test_account_updated_for_another_account_is_ignored_without_reading_stripe(world, stripe_reads):
    stored = deliver("account.updated", _account(world), "connect-other")

    assert stored.last_error == f"ignored: connect event from {OTHER} for account {OWNER}"
    stripe_reads.account_retrieve.assert_not_called()


def test_the_platforms_own_account_updated_is_ignored(world, stripe_reads):
    stored = deliver("account.updated", {"id": "acct_platform", "object": "account"}, "platform")

    assert stored.last_error == "ignored: platform event for account owned by a connected account"


def test_replaying_a_processed_event_checks_its_source_again(world, stripe_reads):
    """An event processed before its source was checked is ignored on replay."""
    body = event("payout.paid", {**_payout(world), "amount": 1}, account=OTHER)
    stored = StripeEvent.objects.create(
        stripe_id=body["id"],
        type=body["type"],
        endpoint=CONNECT,
        account=OTHER,
        payload=body,
        status=StripeEvent.Status.PROCESSED,
        attempts=1,
    )

    assert event_process(event_id=stored.pk, replay=True) == StripeEvent.Status.IGNORED

    stored.refresh_from_db()
    assert (stored.status, stored.attempts) == (StripeEvent.Status.IGNORED, 2)
    assert stored.last_error.startswith(f"ignored: connect event from {OTHER} for payout")


def test_an_event_without_a_handler_says_so(world):
    body = event("customer.created", {"id": "cus_1", "object": "customer"})
    stored = StripeEvent.objects.create(
        stripe_id=body["id"], type=body["type"], endpoint=PLATFORM, payload=body
    )
    assert event_process(event_id=stored.pk) == StripeEvent.Status.IGNORED
    stored.refresh_from_db()
    assert stored.last_error == "ignored: no handler for customer.created"


def test_a_registration_must_name_its_endpoint():
    with pytest.raises(ValueError, match="Unknown webhook endpoint"):
        handles("x.y", endpoint="both", kind="thing")
    with pytest.raises(TypeError):
        handles("x.y")  # type: ignore[call-arg]
