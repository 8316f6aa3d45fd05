"""A buyer notices a typo in the shipping address on the pay page, follows "Change the
address", corrects it and pays: the order, and the PaymentIntent the sandbox holds,
ship to the corrected address. On a phone, with a screenshot of each step in
test-artifacts/e2e/<test>/."""

import pytest
from django.urls import reverse

from payments.models import Payment
from shop.models import Order, Product
from tests.phones import FITS, PHONES

from .conftest import (
    CARD_FRAME,
    CHECKOUT_DONE_URL,
    add_to_cart,
    contractor_with_product,
    fill_card,
    log_in,
    new_buyer,
    pay_button,
)

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.celery_worker]

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Mian Street",  # the typo
    "city": "Albany",
    "postal_code": "12207",
    "state": "NY",
    "country": "US",
}


def fill_address(page, **changes) -> None:
    for field, value in {**ADDRESS, **changes}.items():
        locator = page.locator(f"[name={field}]")
        if locator.evaluate("e => e.tagName") == "SELECT":
            locator.select_option(value)
        else:
            locator.fill(value)
    page.get_by_role("button", name="Continue to payment").click()


def test_the_buyer_corrects_the_address_on_the_pay_page_and_pays(page, shot, shop, live_stack):
    page.set_viewport_size(PHONES["390"])
    bowl = contractor_with_product(
        live_stack, "Alice Woodworks", title="Walnut bowl", price_amount=4500
    )
    Product.objects.filter(pk=bowl.pk).update(kind=Product.Kind.SHIPPED)
    buyer = new_buyer()
    log_in(page, shop, buyer)
    add_to_cart(page, shop, bowl)
    page.goto(shop + reverse("shop:cart"))
    page.get_by_role("button", name="Checkout").click()
    page.wait_for_url("**/shipping/")
    fill_address(page)
    page.frame_locator(CARD_FRAME).locator("input[name=cardnumber]").wait_for(state="attached")
    assert "12 Mian Street" in page.locator(".shipping-address").inner_text()
    assert page.evaluate(FITS)
    shot("pay-page-with-the-typo")

    page.get_by_role("link", name="Change the address").click()
    page.wait_for_url("**/shipping/")
    assert page.locator("[name=line1]").input_value() == "12 Mian Street"
    fill_address(page, line1="12 Main Street")
    page.frame_locator(CARD_FRAME).locator("input[name=cardnumber]").wait_for(state="attached")
    assert "12 Main Street" in page.locator(".shipping-address").inner_text()
    shot("pay-page-corrected")

    fill_card(page, "4242424242424242")
    pay_button(page).click()
    page.wait_for_url(CHECKOUT_DONE_URL)
    order = Order.objects.get(buyer=buyer)
    assert order.shipping_line1 == "12 Main Street"
    intent = Payment.objects.get(order=order).stripe_payment_intent_id
    shipping = live_stack.client().v1.payment_intents.retrieve(intent).shipping
    assert shipping.address.line1 == "12 Main Street"
    shot("paid")
