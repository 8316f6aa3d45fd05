"""Buyers pay, end to end: the real gateway over HTTP to the sandbox, signed webhooks
to the live server, a real Celery worker processing them, money checked to the cent.

The buyer's browser is stood in for by confirming the PaymentIntent with the
test card's PaymentMethod, exactly what Stripe.js sends (the browser journey
itself is covered by the e2e tests).
"""

import pytest
import stripe
from django.db import transaction

from accounts.models import UserProfile
from payments import gateway
from payments.models import Payment, StripeEvent, Transfer
from payments.services.intents import payment_intent_ensure
from shop.models import Order
from shop.services import checkout_create, order_fulfil
from tests.factories import BuyerFactory, ProductFactory
from tests.integration.conftest import wait_for
from tests.integration.flows import (
    browser_confirms,
    connected_balance,
    onboarded_contractor,
    order_status,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.celery_worker]


@pytest.fixture
def fees(settings):
    settings.PLATFORM_FEE_BPS = 1000
    settings.PLATFORM_FEE_FIXED = 30


def test_checkout_authorise_fulfil_capture_to_the_cent(live_stack, fees):
    seller = onboarded_contractor(live_stack, "alice@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    board = ProductFactory(seller=seller, price_amount=4500)
    buyer = BuyerFactory()

    checkout_id = checkout_create(buyer=buyer, items=[(board.pk, 2)])
    order = Order.objects.get(checkout_id=checkout_id)
    payment = order.payments.get()
    intent = payment_intent_ensure(payment_id=payment.pk)
    assert intent["amount"] == 9000
    assert intent["application_fee_amount"] == 930
    assert intent["capture_method"] == "manual"
    assert intent["transfer_data"]["destination"] == account
    assert intent["metadata"]["order_id"] == str(order.pk)
    assert intent["customer"] == UserProfile.objects.get(user=buyer).stripe_id

    browser_confirms(live_stack, payment, "pm_card_visa")
    wait_for(lambda: order_status(order.pk) == "authorized", what="authorisation webhook")
    payment.refresh_from_db()
    assert (payment.status, payment.amount_authorized) == ("authorized", 9000)
    assert connected_balance(account) == (0, 0)  # held on the card, not moved yet

    order_fulfil(order_id=order.pk, seller=seller)
    wait_for(lambda: order_status(order.pk) == "captured", what="capture by the worker")

    payment.refresh_from_db()
    assert (payment.amount_captured, payment.application_fee_amount) == (9000, 930)
    pending, available = connected_balance(account)
    assert pending + available == 9000 - 930
    wait_for(lambda: connected_balance(account) == (0, 8070), what="funds becoming available")
    fees_collected = live_stack.client().v1.application_fees.list({"limit": 5}).data
    assert [f.amount for f in fees_collected] == [930]
    wait_for(
        lambda: Payment.objects.get(pk=payment.pk).stripe_transfer_id,
        what="transfer.created webhook",
    )


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("pm_card_chargeDeclined", "Your card was declined."),
        ("pm_card_chargeDeclinedInsufficientFunds", "Your card has insufficient funds."),
        ("pm_card_chargeDeclinedExpiredCard", "This card has expired."),
        ("pm_card_chargeDeclinedIncorrectCvc", "The security code is incorrect."),
    ],
)
def test_declined_cards_fail_the_order_and_charge_nothing(live_stack, card, message):
    seller = onboarded_contractor(live_stack, f"{card}@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    product = ProductFactory(seller=seller, price_amount=1500)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(product.pk, 1)])
    payment = Payment.objects.get(order__checkout_id=checkout_id)
    payment_intent_ensure(payment_id=payment.pk)

    with pytest.raises(stripe.CardError):
        browser_confirms(live_stack, payment, card)

    wait_for(lambda: order_status(payment.order_id) == "failed", what="payment_failed webhook")
    payment.refresh_from_db()
    assert payment.last_error_message == message
    assert payment.amount_authorized == payment.amount_captured == 0
    assert connected_balance(account) == (0, 0)


def test_three_d_secure_card_authorises_after_the_challenge(live_stack):
    seller = onboarded_contractor(live_stack, "tds@example.com")
    product = ProductFactory(seller=seller, price_amount=2000)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(product.pk, 1)])
    payment = Payment.objects.get(order__checkout_id=checkout_id)
    payment_intent_ensure(payment_id=payment.pk)

    confirmed = browser_confirms(live_stack, payment, "pm_card_threeDSecure2Required")
    assert confirmed.status == "requires_action"
    wait_for(
        lambda: Payment.objects.get(pk=payment.pk).status == "requires_action",
        what="requires_action webhook",
    )
    live_stack.sandbox.three_d_secure_finish(confirmed.id, True)  # the buyer clicks Complete

    wait_for(lambda: order_status(payment.order_id) == "authorized", what="authorisation")


def test_multi_contractor_cart_is_one_payment_and_pays_each_contractor_their_share(
    live_stack, fees
):
    alice = onboarded_contractor(live_stack, "alice2@example.com")
    bob = onboarded_contractor(live_stack, "bob2@example.com")
    board = ProductFactory(seller=alice, price_amount=4500)
    bowl = ProductFactory(seller=alice, price_amount=8900)
    tune = ProductFactory(seller=bob, price_amount=7500)
    checkout_id = checkout_create(
        buyer=BuyerFactory(), items=[(board.pk, 1), (bowl.pk, 1), (tune.pk, 1)]
    )
    orders = list(Order.objects.filter(checkout_id=checkout_id))
    assert len(orders) == 2
    # One PaymentIntent for the checkout: one confirmation, one authentication.
    intents = {payment_intent_ensure(payment_id=o.payments.get().pk)["id"] for o in orders}
    assert len(intents) == 1
    browser_confirms(live_stack, orders[0].payments.get(), "pm_card_visa")
    for order in orders:
        wait_for(lambda o=order: order_status(o.pk) == "authorized", what="authorisations")
    # Both contractors fulfil at once: one capture of the charge, a transfer each.
    for order in orders:
        with transaction.atomic():
            order_fulfil(order_id=order.pk, seller=order.seller)
    for order in orders:
        wait_for(lambda o=order: order_status(o.pk) == "captured", what="captures")
    wait_for(lambda: Transfer.objects.filter(status="succeeded").count() == 2, what="the transfers")
    calls = live_stack.control("GET", "/_sandbox/requests?path=/v1/payment_intents/")
    captures = [c for c in calls["requests"] if c["path"].endswith("/capture")]
    assert len({c["headers"]["Idempotency-Key"] for c in captures}) == 1

    expected = {alice.pk: 13400 - 1370, bob.pk: 7500 - 780}
    for seller_id, net in expected.items():
        account = UserProfile.objects.get(user_id=seller_id).stripe_id
        pending, available = connected_balance(account)
        assert pending + available == net


def test_stripe_unreachable_order_waits_and_retry_succeeds(live_stack):
    seller = onboarded_contractor(live_stack, "flaky@example.com")
    product = ProductFactory(seller=seller, price_amount=1000)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(product.pk, 1)])
    payment = Payment.objects.get(order__checkout_id=checkout_id)
    live_stack.control(
        "POST", "/_sandbox/faults", {"path": "/v1/payment_intents", "kind": "500", "count": 1}
    )

    with pytest.raises(gateway.GatewayUnavailable):
        payment_intent_ensure(payment_id=payment.pk)
    payment.refresh_from_db()
    assert payment.stripe_payment_intent_id is None
    assert payment.order.status == Order.Status.PENDING

    intent = payment_intent_ensure(payment_id=payment.pk)
    assert intent["status"] == "requires_payment_method"
    intents = live_stack.client().v1.payment_intents.list({"limit": 100}).to_dict()["data"]
    ours = [i["id"] for i in intents if i["metadata"].get("order_id") == str(payment.order_id)]
    assert ours == [intent["id"]]  # the retry reused the idempotency key: one intent


def test_every_webhook_is_stored_once_and_processed(live_stack):
    seller = onboarded_contractor(live_stack, "events@example.com")
    product = ProductFactory(seller=seller, price_amount=1000)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(product.pk, 1)])
    payment = Payment.objects.get(order__checkout_id=checkout_id)
    payment_intent_ensure(payment_id=payment.pk)
    browser_confirms(live_stack, payment, "pm_card_visa")
    wait_for(lambda: order_status(payment.order_id) == "authorized", what="authorisation")
    wait_for(
        lambda: not StripeEvent.objects.filter(status__in=["received", "failed"]).exists(),
        what="every stored event to be processed",
    )
    assert StripeEvent.objects.filter(type="payment_intent.amount_capturable_updated").count() == 1
