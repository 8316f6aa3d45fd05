"""Saved cards in Chromium: a buyer adds cards on their "Payment methods" page through a
SetupIntent the sandbox's Stripe.js confirms (3-D Secure included), picks the default
that checkout then preselects and pays with, removes a card; and the page fits a phone.
"""

import pytest
from django.urls import reverse

from accounts.models import UserProfile
from tests.phones import FITS, PHONES

from .conftest import (
    CARD_FRAME,
    CHECKOUT_DONE_URL,
    THREE_D_SECURE,
    VISA,
    add_to_cart,
    answer_challenge,
    contractor_with_product,
    fill_card,
    log_in,
    new_buyer,
    pay_button,
    start_checkout,
)
from .test_checkout import wait_for_orders

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.celery_worker]


def default_card(sandbox, buyer) -> str | None:
    customer = UserProfile.objects.get(user=buyer).stripe_id
    return sandbox.client().v1.customers.retrieve(customer).invoice_settings.default_payment_method


def add_card(page, shot, number: str, step: str) -> None:
    page.get_by_role("button", name="Add a card").click()
    page.wait_for_url("**/payment-methods/add/")
    page.frame_locator(CARD_FRAME).locator("input[name=cardnumber]").wait_for()
    fill_card(page, number)
    shot(f"adding-{step}")
    page.get_by_role("button", name="Save the card").click()


def saved_message(page) -> None:
    page.locator(".message.success").filter(has_text="Your card is saved.").wait_for()


def test_add_cards_choose_the_default_pay_with_it_and_remove_one(page, shot, shop, live_stack):
    board = contractor_with_product(
        live_stack, "Alice Woodworks", title="Oak chopping board", price_amount=4500
    )
    buyer = new_buyer()
    log_in(page, shop, buyer)
    page.goto(shop + reverse("shop:product_list"))
    page.get_by_role("link", name="Payment methods").click()
    page.wait_for_url("**/accounts/payment-methods/")
    assert "No saved cards yet." in page.locator("main").inner_text()

    add_card(page, shot, VISA, "visa")
    page.wait_for_url("**/accounts/payment-methods/")
    saved_message(page)
    shot("visa-saved")

    # A card whose bank asks for 3-D Secure is saved once the buyer passes it.
    add_card(page, shot, THREE_D_SECURE, "3ds-card")
    shot("challenge")
    answer_challenge(page, "Complete authentication")
    page.wait_for_url("**/accounts/payment-methods/")
    saved_message(page)
    cards = page.locator(".saved-card")
    assert cards.count() == 2
    text = page.locator(".saved-card-list").inner_text()
    assert "Visa •••• 4242" in text
    assert "Visa •••• 3155" in text
    assert "expires 12/34" in text

    visa = page.locator(".saved-card").filter(has_text="•••• 4242")
    visa.get_by_role("button", name="Make the card ending 4242 the default").click()
    page.locator(".message.success").filter(has_text="is now your default").wait_for()
    visa = page.locator(".saved-card").filter(has_text="•••• 4242")
    assert "Default" in visa.inner_text()
    shot("visa-is-the-default")
    visa_id = visa.get_attribute("data-payment-method")
    assert default_card(live_stack, buyer) == visa_id

    # Checkout preselects the default, and it pays.
    add_to_cart(page, shop, board)
    start_checkout(page, shop)
    chosen = page.locator('input[name="payment_method"]:checked')
    assert chosen.get_attribute("value") == visa_id
    assert page.locator("#new-card").is_hidden()
    shot("default-preselected")
    pay_button(page).click()
    page.wait_for_url(CHECKOUT_DONE_URL)
    wait_for_orders(buyer, "authorized", what="the order paid with the default card")

    # Removing the other card.
    page.goto(shop + reverse("accounts:payment_methods"))
    page.locator(".saved-card").filter(has_text="•••• 3155").get_by_role(
        "button", name="Remove"
    ).click()
    shot("remove-asks-first")
    page.get_by_role("button", name="Yes, remove the card ending 3155").click()
    page.locator(".message.success").filter(has_text="was removed").wait_for()
    assert page.locator(".saved-card").count() == 1
    shot("3ds-card-removed")


def test_the_payment_methods_pages_fit_a_phone(browser, shot, shop, live_stack):
    buyer = new_buyer()
    for width, viewport in PHONES.items():
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        context.set_default_timeout(10_000)
        phone = context.new_page()
        errors: list[str] = []
        phone.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        shot.page = phone
        try:
            log_in(phone, shop, buyer)
            phone.goto(shop + reverse("accounts:payment_methods"))
            if phone.locator(".saved-card").count() == 0:
                add_card(phone, shot, VISA, f"phone-{width}")
                phone.wait_for_url("**/accounts/payment-methods/")
                saved_message(phone)
            shot(f"payment-methods-{width}")
            assert phone.evaluate(FITS), f"payment methods at {width} px"
            phone.get_by_role("button", name="Add a card").click()
            phone.frame_locator(CARD_FRAME).locator("input[name=cardnumber]").wait_for()
            shot(f"add-a-card-{width}")
            assert phone.evaluate(FITS), f"add a card at {width} px"
            assert not errors, errors
        finally:
            context.close()
