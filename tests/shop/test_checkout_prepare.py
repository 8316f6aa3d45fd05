"""shop.checkout: one preparation of a checkout's PaymentIntents for the page and the API."""

from unittest import mock

import pytest

from payments import gateway
from payments.models import Payment
from payments.services import stripe_reads
from shop.checkout import (
    CheckoutRefused,
    CheckoutUnavailable,
    NothingToPay,
    checkout_prepare,
    order_payment_prepare,
)
from shop.models import Order
from shop.selectors import order_get
from shop.services import checkout_create
from tests.factories import BuyerFactory, OrderFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gw(monkeypatch):
    fake = mock.MagicMock()
    for name in ["customer_create", "payment_intent_create", "payment_intent_retrieve"]:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    fake.customer_create.return_value = {"id": "cus_1"}
    fake.payment_intent_create.side_effect = lambda **kw: {
        "id": f"pi_{kw['order_id']}",
        "client_secret": f"pi_{kw['order_id']}_secret",
        "status": "requires_payment_method",
    }
    return fake


@pytest.fixture
def checkout_id(buyer, buyable_product):
    return checkout_create(buyer=buyer, items=[(buyable_product.pk, 2)])


def test_a_new_checkout_gets_its_intents_and_everything_is_due(gw, buyer, checkout_id):
    checkout = checkout_prepare(buyer=buyer, checkout_id=checkout_id)

    [line] = checkout.lines
    order = Order.objects.get(checkout_id=checkout_id)
    assert line.payment == Payment.objects.get(order=order)
    assert (line.client_secret, line.intent_status, line.paid) == (
        f"pi_{order.pk}_secret",
        "requires_payment_method",
        False,
    )
    assert checkout.due == [line]
    assert checkout.paid == []
    assert not checkout.all_paid
    assert (checkout.amount_due, checkout.currency) == (order.amount, "usd")
    assert checkout.client_secrets == {line.payment.pk: f"pi_{order.pk}_secret"}
    assert Payment.objects.get(order=order).stripe_payment_intent_id == f"pi_{order.pk}"


def test_stripe_knows_first_an_intent_authorised_a_moment_ago_is_paid(gw, buyer):
    order = OrderFactory(buyer=buyer)
    payment = PaymentFactory(order=order, stripe_payment_intent_id="pi_done")
    gw.payment_intent_retrieve.return_value = {
        "id": "pi_done",
        "client_secret": "pi_done_secret",
        "status": "requires_capture",
    }

    checkout = checkout_prepare(buyer=buyer, checkout_id=order.checkout_id)

    assert [(line.payment, line.paid) for line in checkout.lines] == [(payment, True)]
    assert checkout.all_paid
    assert checkout.client_secrets == {}  # nothing left to confirm
    assert checkout.amount_due == 0


def test_a_checkout_paid_in_our_database_does_not_ask_stripe(gw, buyer):
    order = OrderFactory(buyer=buyer, status=Order.Status.AUTHORIZED)
    PaymentFactory(order=order, status=Payment.Status.AUTHORIZED, amount_authorized=2500)

    checkout = checkout_prepare(buyer=buyer, checkout_id=order.checkout_id, resync=True)

    assert checkout.all_paid
    assert [line.client_secret for line in checkout.lines] == [None]
    gw.payment_intent_retrieve.assert_not_called()
    gw.payment_intent_create.assert_not_called()


def test_someone_elses_checkout_does_not_exist(gw, checkout_id):
    with pytest.raises(Order.DoesNotExist):
        checkout_prepare(buyer=BuyerFactory(password=None), checkout_id=checkout_id)
    gw.payment_intent_create.assert_not_called()


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            gateway.GatewayUnavailable("connection refused"),
            CheckoutUnavailable,
            "Payment service is unreachable, please retry.",
        ),
        (
            gateway.GatewayRejected("No such destination: 'acct_x'", status=400),
            CheckoutRefused,
            "The payment service returned an error. Please try again.",
        ),
    ],
)
def test_stripe_down_or_refusing_keeps_the_orders(gw, buyer, checkout_id, error, kind, message):
    gw.payment_intent_create.side_effect = error

    with pytest.raises(kind) as raised:
        checkout_prepare(buyer=buyer, checkout_id=checkout_id)

    assert raised.value.user_message == message
    assert raised.value.checkout_id == checkout_id
    assert raised.value.error is error
    assert [p.order.checkout_id for p in raised.value.payments] == [checkout_id]
    assert Order.objects.get(checkout_id=checkout_id).status == Order.Status.PENDING


def test_resync_lets_the_return_page_read_stripe_again(gw, buyer):
    order = OrderFactory(buyer=buyer)
    payment = PaymentFactory(order=order, stripe_payment_intent_id="pi_open")
    gw.payment_intent_retrieve.return_value = {
        "id": "pi_open",
        "client_secret": "pi_open_secret",
        "status": "requires_payment_method",
    }
    assert stripe_reads.sync_due(payment.pk)  # the return page just read it

    checkout_prepare(buyer=buyer, checkout_id=order.checkout_id)
    assert not stripe_reads.sync_due(payment.pk)  # the API does not reopen the window
    checkout_prepare(buyer=buyer, checkout_id=order.checkout_id, resync=True)
    assert stripe_reads.sync_due(payment.pk)  # the pay page does


def test_one_order_is_prepared_on_its_own_while_it_awaits_payment(gw, buyer, checkout_id):
    order = order_get(buyer=buyer, public_id=Order.objects.get().public_id)

    prepared = order_payment_prepare(order=order)

    assert prepared.payment.order_id == order.pk
    assert prepared.client_secret == f"pi_{order.pk}_secret"


def test_an_order_with_nothing_to_pay_says_what_it_is(gw, buyer):
    order = OrderFactory(buyer=buyer, status=Order.Status.AUTHORIZED)
    PaymentFactory(order=order, status=Payment.Status.AUTHORIZED, amount_authorized=2500)

    with pytest.raises(NothingToPay, match="nothing left to pay: it is authorised"):
        order_payment_prepare(order=order_get(buyer=buyer, public_id=order.public_id))
    gw.payment_intent_retrieve.assert_not_called()
