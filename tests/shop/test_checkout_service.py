"""checkout_create: amounts from the database, one order per contractor, clear refusals."""

import pytest

from payments.models import Payment
from shop.models import Order, OrderItem
from shop.services import CheckoutError, checkout_create
from tests.factories import ContractorFactory, ProductFactory

pytestmark = pytest.mark.django_db


def seller(n):
    return ContractorFactory(profile__charges_enabled=True, profile__stripe_id=f"acct_s{n}")


def test_one_order_and_payment_per_contractor_with_the_fee(settings, buyer):
    settings.PLATFORM_FEE_BPS = 1000
    settings.PLATFORM_FEE_FIXED = 30
    alice, bob = seller(1), seller(2)
    board = ProductFactory(seller=alice, price_amount=4500)
    bowl = ProductFactory(seller=alice, price_amount=8900)
    tune = ProductFactory(seller=bob, price_amount=7500)

    checkout_id = checkout_create(buyer=buyer, items=[(board.pk, 2), (bowl.pk, 1), (tune.pk, 1)])

    orders = {o.seller_id: o for o in Order.objects.filter(checkout_id=checkout_id)}
    assert set(orders) == {alice.pk, bob.pk}
    alice_order = orders[alice.pk]
    assert alice_order.amount == 2 * 4500 + 8900 == 17900
    assert alice_order.fee_amount == 1790 + 30
    assert alice_order.status == Order.Status.PENDING
    assert sorted(alice_order.items.values_list("title", "unit_amount", "quantity")) == sorted(
        [(board.title, 4500, 2), (bowl.title, 8900, 1)]
    )
    bob_payment = Payment.objects.get(order=orders[bob.pk])
    assert (bob_payment.amount, bob_payment.application_fee_amount) == (7500, 780)
    assert bob_payment.destination_account == "acct_s2"
    assert bob_payment.stripe_payment_intent_id is None


def test_same_product_twice_is_summed(buyer, buyable_product):
    checkout_id = checkout_create(
        buyer=buyer, items=[(buyable_product.pk, 2), (buyable_product.pk, 3)]
    )
    assert OrderItem.objects.get(order__checkout_id=checkout_id).quantity == 5


def refused(buyer, items, message):
    with pytest.raises(CheckoutError, match=message):
        checkout_create(buyer=buyer, items=items)
    assert not Order.objects.exists()
    assert not Payment.objects.exists()


def test_empty_cart(buyer):
    refused(buyer, [], "Your cart is empty")


@pytest.mark.parametrize("quantity", [0, -1, 100, 10**9, "3", 2.5, True])
def test_bad_quantities(buyer, buyable_product, quantity):
    refused(buyer, [(buyable_product.pk, quantity)], "Quantity must")


def test_inactive_and_unpurchasable_products(buyer):
    inactive = ProductFactory(seller=seller(1), active=False)
    refused(buyer, [(inactive.pk, 1)], "cannot be bought right now")
    not_onboarded = ProductFactory()
    refused(buyer, [(not_onboarded.pk, 1)], "cannot be bought right now")
    refused(buyer, [(999_999, 1)], "no longer exists")


def test_mixed_currencies(buyer):
    usd = ProductFactory(seller=seller(1), currency="usd")
    eur = ProductFactory(seller=seller(2), currency="eur")
    refused(buyer, [(usd.pk, 1), (eur.pk, 1)], "different currencies")


def test_only_buyers_check_out(buyable_product):
    refused(buyable_product.seller, [(buyable_product.pk, 1)], "Only buyer accounts")


def test_absurd_total(buyer):
    pricey = ProductFactory(seller=seller(1), price_amount=2_000_000)
    refused(buyer, [(pricey.pk, 60)], "too large")


def test_zero_decimal_currency_fee(settings, buyer):
    settings.PLATFORM_FEE_BPS = 250
    settings.PLATFORM_FEE_FIXED = 0
    tea = ProductFactory(seller=seller(1), currency="jpy", price_amount=1500)
    checkout_id = checkout_create(buyer=buyer, items=[(tea.pk, 1)])
    order = Order.objects.get(checkout_id=checkout_id)
    assert (order.amount, order.fee_amount, order.currency) == (1500, 38, "jpy")
