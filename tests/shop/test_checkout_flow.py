"""One open checkout per cart: Back, a changed cart, a decline and retry, currencies,
a pay page that knows where it stands, and the cart once paid (gateway patched)."""

from unittest import mock

import pytest
from django.urls import reverse

from payments import gateway
from payments.models import Payment
from shop import pay_messages
from shop.models import Order
from tests.factories import ContractorFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gw(monkeypatch):
    fake = mock.MagicMock()
    for name in [
        "customer_create",
        "customer_payment_methods",
        "payment_intent_create",
        "payment_intent_retrieve",
        "payment_method_detach",
    ]:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    fake.customer_create.return_value = {"id": "cus_1"}
    fake.customer_payment_methods.return_value = []
    fake.payment_intent_create.side_effect = lambda **kw: {
        "id": f"pi_{kw['order_id']}",
        "client_secret": f"pi_{kw['order_id']}_secret_x",
        "status": "requires_payment_method",
    }
    return fake


@pytest.fixture(autouse=True)
def cancel_tasks():
    with mock.patch("payments.tasks.payment_cancel_task.delay") as delay:
        yield delay


def sellable(n=1, **fields):
    seller = ContractorFactory(profile__charges_enabled=True, profile__stripe_id=f"acct_fl{n}")
    return ProductFactory(seller=seller, **fields)


@pytest.fixture
def shopper(client, buyer):
    client.force_login(buyer)
    return client


def add(client, product, quantity=1):
    return client.post(reverse("shop:cart_add", args=[product.pk]), {"quantity": quantity})


def checkout(client, **data):
    return client.post(reverse("shop:checkout_start"), data)


def intent_authorised(gw, payment):
    gw.payment_intent_retrieve.return_value = {
        "id": payment.stripe_payment_intent_id,
        "client_secret": f"{payment.stripe_payment_intent_id}_secret_x",
        "status": "requires_capture",
        "amount_capturable": payment.amount,
        "created": 1_800_000_000,
        "latest_charge": "ch_1",
    }


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_back_to_the_cart_and_checkout_again_is_the_same_checkout(shopper, buyer, gw):
    board = sellable(stock=3)
    add(shopper, board, 2)
    pay_url = checkout(shopper).url
    shopper.get(pay_url)

    cart = shopper.get(reverse("shop:cart"))  # Back: the cart is intact
    assert "Your cart is empty." not in cart.content.decode()
    assert "you will return to the same payment" in cart.content.decode()
    assert checkout(shopper).url == pay_url

    assert Order.objects.filter(buyer=buyer).count() == 1
    assert board.__class__.objects.get(pk=board.pk).stock == 1  # taken once


def test_a_changed_cart_replaces_its_checkout(
    shopper, buyer, gw, cancel_tasks, django_capture_on_commit_callbacks
):
    board, bowl = sellable(1, stock=3), sellable(2)
    add(shopper, board)
    first = checkout(shopper).url
    shopper.get(first)  # its intent exists at Stripe
    old = Order.objects.get(buyer=buyer)
    old_payment = Payment.objects.get(order=old)

    with django_capture_on_commit_callbacks(execute=True):
        add(shopper, bowl)  # the cart changes: the first checkout is canceled at once

    old.refresh_from_db()
    assert (old.status, old.cancel_reason) == ("canceled", "replaced")
    old_payment.refresh_from_db()
    assert old_payment.action == Payment.Action.CANCEL  # the intent is canceled by a worker
    cancel_tasks.assert_called_once_with(old_payment.pk)
    assert board.__class__.objects.get(pk=board.pk).stock == 3
    assert shopper.get(first).status_code == 410  # the old pay page says it is over

    second = checkout(shopper).url
    assert second != first
    # The list shows the purchase, not the leftover.
    orders = shopper.get(reverse("shop:order_list")).context["page"].object_list
    assert [o.checkout_id for o in orders] == [Order.objects.exclude(pk=old.pk)[0].checkout_id] * 2


def test_the_same_quantity_typed_again_changes_nothing(shopper, buyer, gw):
    board = sellable()
    add(shopper, board, 2)
    pay_url = checkout(shopper).url
    shopper.post(reverse("shop:cart_update", args=[board.pk]), {"quantity": "2"})
    assert checkout(shopper).url == pay_url


def test_a_decline_then_checkout_again_keeps_one_order(shopper, buyer, gw):
    board = sellable()
    add(shopper, board)
    pay_url = checkout(shopper).url
    shopper.get(pay_url)
    Order.objects.filter(buyer=buyer).update(status=Order.Status.FAILED)  # declined

    assert checkout(shopper).url == pay_url
    assert Order.objects.filter(buyer=buyer).count() == 1


def test_the_pay_page_is_never_cached(shopper, gw):
    add(shopper, sellable())
    page = shopper.get(checkout(shopper).url)
    assert "no-store" in page["Cache-Control"]


def test_a_paid_checkout_goes_to_its_confirmation_and_leaves_the_cart(shopper, buyer, gw):
    board, mug = sellable(1), sellable(2)
    add(shopper, board)
    pay_url = checkout(shopper).url
    shopper.get(pay_url)
    intent_authorised(gw, Payment.objects.get())

    # Stripe knows first (the webhook is in flight): the pay page sends to the confirmation.
    assert shopper.get(pay_url).url.endswith("/done/")
    done = shopper.get(pay_url + "done/")
    assert "your payment is authorised" in done.content.decode()

    assert shopper.session["cart"] == {}
    assert shopper.session["cart_checkouts"] == {}
    add(shopper, mug)  # a new purchase: a new checkout, the paid one untouched
    assert checkout(shopper).url != pay_url
    assert sorted(Order.objects.values_list("status", flat=True)) == ["authorized", "pending"]


def test_a_cart_that_paid_elsewhere_drops_the_paid_items(shopper, buyer, gw):
    board = sellable()
    add(shopper, board, 2)
    checkout(shopper)
    Order.objects.filter(buyer=buyer).update(status=Order.Status.AUTHORIZED)  # another tab

    cart = shopper.get(reverse("shop:cart"))

    assert "Your payment went through" in " ".join(flashed(cart))
    assert "Your cart is empty." in cart.content.decode()


def test_mixed_currencies_check_out_one_currency_at_a_time(shopper, buyer, gw):
    board = sellable(1, price_amount=4500, currency="usd")
    tea = sellable(2, price_amount=1500, currency="jpy")
    add(shopper, board)
    add(shopper, tea)

    refused = checkout(shopper)  # no currency chosen: back to the cart, nothing made
    assert refused.url == reverse("shop:cart")
    assert not Order.objects.exists()

    pay_usd = checkout(shopper, currency="usd").url
    page = shopper.get(pay_usd).content.decode()
    assert "$45.00" in page
    assert "¥" not in page
    pay_jpy = checkout(shopper, currency="jpy").url
    assert pay_jpy != pay_usd
    assert sorted(Order.objects.values_list("currency", flat=True)) == ["jpy", "usd"]
    # Both stay open: each currency's checkout is its own.
    assert checkout(shopper, currency="usd").url == pay_usd
    assert set(Order.objects.values_list("status", flat=True)) == {"pending"}


def test_the_cart_flags_more_than_is_left_and_disables_its_checkout(shopper, buyer, gw):
    board = sellable(stock=5, title="Oak board")
    add(shopper, board, 4)
    board.__class__.objects.filter(pk=board.pk).update(stock=2)  # others bought meanwhile

    page = shopper.get(reverse("shop:cart")).content.decode()

    assert "Only 2 of “Oak board” left." in page
    assert 'disabled aria-describedby="blocked-usd"' in page


def test_the_cart_counts_its_own_checkouts_hold_as_the_buyers(shopper, buyer, gw):
    board = sellable(stock=1, title="Oak board")
    add(shopper, board)
    checkout(shopper)  # took the last one
    page = shopper.get(reverse("shop:cart")).content.decode()
    assert "left." not in page
    assert 'aria-describedby="blocked-usd"' not in page


def test_sold_out_cannot_be_added(client, gw):
    board = sellable(stock=0, title="Oak board")
    page = client.get(board.get_absolute_url()).content.decode()
    assert "Sold out." in page
    assert "Add to cart" not in page
    response = add(client, board)
    assert client.session.get("cart", {}) == {}
    assert "“Oak board” is sold out." in flashed(client.get(response.url))


def test_adding_more_than_is_left_says_how_many(client, gw):
    board = sellable(stock=3, title="Oak board")
    add(client, board, 2)
    response = add(client, board, 2)
    assert "Only 3 of “Oak board” left. You already have 2 in your cart." in flashed(
        client.get(response.url)
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ({"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"},
         "Your card was declined."),
        ({"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"},
         "Your card has insufficient funds."),
        ({"type": "card_error", "code": "expired_card"}, "This card has expired."),
        ({"type": "card_error", "code": "incorrect_cvc"}, "The security code is incorrect."),
        ({"type": "card_error", "code": "processing_error"},
         "An error occurred while processing your card. Please try again."),
        ({"type": "card_error", "code": "authentication_required"},
         "Your bank needs you to authenticate this payment. Try again."),
        ({"type": "card_error", "code": "card_declined", "decline_code": "something_new"},
         "Your card was declined."),
        ({"type": "invalid_request_error", "code": "payment_intent_unexpected_state",
          "intent_status": "requires_capture"}, "This order is already paid."),
        ({"type": "invalid_request_error", "code": "payment_intent_unexpected_state",
          "intent_status": "canceled"}, pay_messages.CHECKOUT_CLOSED),
        ({"type": "invalid_request_error", "code": "rate_limit"}, pay_messages.BUSY),
        ({"type": "rate_limit_error"}, pay_messages.BUSY),
        ({"type": "api_error"}, pay_messages.SERVICE_ERROR),
        ({"type": "api_connection_error"}, pay_messages.UNREACHABLE),
        ({"type": "invalid_request_error", "code": "resource_missing"}, pay_messages.GENERIC),
        ({"type": "validation_error", "code": "incomplete_number"},
         "Your card number is incomplete."),
    ],
)  # fmt: skip
def test_every_error_the_pay_page_meets_has_plain_words(error, message):
    assert pay_messages.error_message(**error) == message


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (gateway.RateLimited("429"), pay_messages.BUSY),
        (gateway.GatewayUnavailable("down"), pay_messages.UNREACHABLE),
        (gateway.CardDeclined("card_declined", "x", decline_code="lost_card"),
         "Your card was declined."),
        (gateway.GatewayRejected("You cannot confirm this PaymentIntent because it has a "
                                 "status of requires_capture.",
                                 code="payment_intent_unexpected_state"),
         gateway.GatewayError.user_message),
    ],
)  # fmt: skip
def test_gateway_errors_have_plain_words_and_never_stripes(error, message):
    assert pay_messages.gateway_error_message(error) == message


def test_the_pay_page_gives_checkout_js_the_same_words(shopper, gw):
    add(shopper, sellable())
    config = shopper.get(checkout(shopper).url).context["config"]
    assert config["messages"]["state"]["requires_capture"] == "This order is already paid."
    assert config["messages"]["card"]["expired_card"] == "This card has expired."
    assert config["messages"]["other"]["rate_limit"] == pay_messages.BUSY


def test_the_confirmation_page_says_a_decline_in_our_words(shopper, buyer, gw):
    add(shopper, sellable())
    pay_url = checkout(shopper).url
    shopper.get(pay_url)
    Payment.objects.update(last_error_code="do_not_honor", last_error_message="Raw words")
    Order.objects.update(status=Order.Status.FAILED)
    gw.payment_intent_retrieve.return_value = {
        "id": Payment.objects.get().stripe_payment_intent_id,
        "status": "requires_payment_method",
        "created": 1_800_000_000,
    }
    page = shopper.get(pay_url + "done/").content.decode()
    assert "Your card was declined." in page
    assert "Raw words" not in page
