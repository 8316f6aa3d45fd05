"""A checkout whose card was declined gives its stock back once the buyer has not tried
again for CHECKOUT_DECLINED_RELEASE_MINUTES, instead of holding the last item from
everyone for the hour an abandoned checkout gets."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from payments.models import Payment
from payments.services import intents
from shop.models import Order, Product
from shop.services import checkout_create, checkouts_abandon
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory
from tests.factories import payment_intent_snapshot as snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cancel_tasks():
    with mock.patch("payments.tasks.payment_cancel_task.delay") as delay:
        yield delay


@pytest.fixture
def last_board(db):
    seller = ContractorFactory(profile__charges_enabled=True, profile__stripe_id="acct_dc1")
    return ProductFactory(seller=seller, stock=1, title="Oak board")


def checkout_of(product, buyer=None) -> Payment:
    """A checkout of one `product`, its PaymentIntent made (not yet confirmed)."""
    checkout_id = checkout_create(buyer=buyer or BuyerFactory(), items=[(product.pk, 1)])
    order = Order.objects.get(checkout_id=checkout_id)
    Payment.objects.filter(order=order).update(stripe_payment_intent_id=f"pi_dc{order.pk}")
    return Payment.objects.get(order=order)


def decline(payment, code="card_declined", decline_code="generic_decline", charge=""):
    """Stripe reports the card declined, as a webhook or the return page would (each
    attempt fails a charge of its own)."""
    charge = charge or f"ch_{code}_{decline_code}"
    error = {"code": code, "decline_code": decline_code, "charge": charge}
    intents.payment_apply_intent(
        snapshot(payment, "requires_payment_method", last_payment_error=error)
    )


def in_minutes(minutes):
    return timezone.now() + timedelta(minutes=minutes)


def product(board) -> Product:
    return Product.objects.get(pk=board.pk)


def status(payment) -> str:
    return Order.objects.get(pk=payment.order_id).status


def test_the_setting_defaults_to_ten_minutes():
    assert django_settings.CHECKOUT_DECLINED_RELEASE_MINUTES == 10


def test_a_declined_last_item_is_released_after_the_shorter_wait(client, settings, last_board):
    settings.CHECKOUT_DECLINED_RELEASE_MINUTES = 10
    payment = checkout_of(last_board)
    decline(payment)
    assert status(payment) == "failed"
    assert product(last_board).sold_out

    assert checkouts_abandon(now=in_minutes(9)) == 0
    assert product(last_board).sold_out  # the buyer may still retry on the pay page

    assert checkouts_abandon(now=in_minutes(11)) == 1
    assert checkouts_abandon(now=in_minutes(11)) == 0

    order = Order.objects.get(pk=payment.order_id)
    assert (order.status, order.cancel_reason) == ("canceled", "abandoned")
    # Its intent is cancelled through the outbox, so the card cannot be retried on it.
    payment.refresh_from_db()
    assert (payment.action, payment.action_reason) == ("cancel", "abandoned")
    # The stock is back: no longer sold out, and the next buyer can check out.
    assert product(last_board).stock == 1
    assert not product(last_board).sold_out
    checkout_of(last_board)
    assert product(last_board).stock == 0
    # The first buyer coming back to the pay page is told the checkout is closed.
    client.force_login(order.buyer)
    page = client.get(reverse("shop:checkout_pay", args=[order.checkout_id]))
    assert page.status_code == 410
    assert "This checkout is closed" in page.content.decode()


def test_a_confirm_after_the_release_does_not_buy_the_item(last_board):
    payment = checkout_of(last_board)
    decline(payment)
    checkouts_abandon(now=in_minutes(11))

    # The buyer's browser confirms the intent before the worker cancelled it.
    intents.payment_apply_intent(snapshot(payment, "requires_capture"))

    payment.refresh_from_db()
    assert status(payment) == "canceled"
    assert payment.action == "cancel"  # the hold is still to be released
    assert product(last_board).stock == 1


def test_a_newer_attempt_restarts_the_wait(last_board):
    payment = checkout_of(last_board)
    decline(payment)
    Payment.objects.filter(pk=payment.pk).update(updated_at=in_minutes(-8))
    Order.objects.filter(pk=payment.order_id).update(updated_at=in_minutes(-8))

    decline(payment, code="card_declined", decline_code="insufficient_funds")  # another card

    assert checkouts_abandon(now=in_minutes(5)) == 0
    assert status(payment) == "failed"
    assert product(last_board).sold_out
    assert checkouts_abandon(now=in_minutes(11)) == 1


def test_a_retry_declined_the_same_way_restarts_the_wait_but_a_repeated_event_does_not(
    last_board,
):
    payment = checkout_of(last_board)
    decline(payment, charge="ch_first_try")
    for row in (Payment.objects.filter(pk=payment.pk), Order.objects.filter(pk=payment.order_id)):
        row.update(updated_at=in_minutes(-8))

    decline(payment, charge="ch_first_try")  # the same webhook again: no news
    assert checkouts_abandon(now=in_minutes(3)) == 1

    other = checkout_of(last_board)
    decline(other, charge="ch_a")
    for row in (Payment.objects.filter(pk=other.pk), Order.objects.filter(pk=other.order_id)):
        row.update(updated_at=in_minutes(-8))
    decline(other, charge="ch_b")  # the buyer tried again; the bank said the same
    assert checkouts_abandon(now=in_minutes(5)) == 0
    assert checkouts_abandon(now=in_minutes(11)) == 1


def test_a_retry_waiting_for_3d_secure_is_left_alone(last_board):
    payment = checkout_of(last_board)
    decline(payment)
    intents.payment_apply_intent(snapshot(payment, "requires_action"))  # a card with 3-D Secure

    assert checkouts_abandon(now=in_minutes(30)) == 0
    assert status(payment) == "failed"
    assert Payment.objects.get(pk=payment.pk).status == "requires_action"
    assert product(last_board).sold_out
    # Nobody finishing the challenge still ends with the abandoned checkouts.
    assert checkouts_abandon(now=in_minutes(61)) == 1


def test_within_the_wait_nothing_is_released(last_board):
    payment = checkout_of(last_board)
    decline(payment)

    assert checkouts_abandon() == 0
    assert status(payment) == "failed"
    assert product(last_board).stock == 0


def test_a_checkout_nobody_tried_keeps_the_hour(last_board):
    payment = checkout_of(last_board)

    assert checkouts_abandon(now=in_minutes(30)) == 0
    assert status(payment) == "pending"
    assert checkouts_abandon(now=in_minutes(61)) == 1


def test_a_paid_checkout_is_never_released(last_board):
    payment = checkout_of(last_board)
    decline(payment)
    intents.payment_apply_intent(snapshot(payment, "requires_capture"))  # a good card
    assert status(payment) == "authorized"

    assert checkouts_abandon(now=in_minutes(11)) == 0
    assert checkouts_abandon(now=in_minutes(24 * 60)) == 0
    assert status(payment) == "authorized"
    assert product(last_board).stock == 0


def test_a_declined_checkout_of_several_sellers_is_released_whole(last_board):
    other = ContractorFactory(profile__charges_enabled=True, profile__stripe_id="acct_dc2")
    shelf = ProductFactory(seller=other, stock=1, title="Pine shelf")
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(last_board.pk, 1), (shelf.pk, 1)])
    # One platform PaymentIntent for both contractors' orders (one authentication), as
    # payments.services.groups records it.
    payments = Payment.objects.filter(order__checkout_id=checkout_id).order_by("pk")
    payments.update(stripe_payment_intent_id="pi_dc_group", transfer_group=str(checkout_id))
    assert all(p.shares_intent for p in payments)
    decline(payments[0])
    assert {status(p) for p in payments} == {"failed"}

    assert checkouts_abandon(now=in_minutes(9)) == 0
    assert checkouts_abandon(now=in_minutes(11)) == 2

    assert {status(p) for p in payments} == {"canceled"}
    assert (product(last_board).stock, product(shelf).stock) == (1, 1)


def test_the_buyer_can_check_out_again_after_the_release(client, buyer, last_board):
    client.force_login(buyer)
    client.post(reverse("shop:cart_add", args=[last_board.pk]), {"quantity": 1})
    client.post(reverse("shop:checkout_start"))
    first = Order.objects.get(buyer=buyer)
    Payment.objects.filter(order=first).update(stripe_payment_intent_id="pi_dc_again")
    decline(Payment.objects.get(order=first))
    checkouts_abandon(now=in_minutes(11))

    response = client.post(reverse("shop:checkout_start"))

    second = Order.objects.filter(buyer=buyer).exclude(pk=first.pk).get()
    assert response.url == reverse("shop:checkout_pay", args=[second.checkout_id])
    assert second.status == "pending"
    assert product(last_board).stock == 0  # the new checkout holds the item again
