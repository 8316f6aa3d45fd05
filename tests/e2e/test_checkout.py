"""The checkout page in Chromium: the sandbox's Stripe.js card element, declines,
3-D Secure, several contractors in one payment, and saved cards.

Each test walks the buyer's way in: log in, add to cart, Checkout, type a card,
Pay. Order states are checked in the database, where the webhooks (processed by
the Celery worker) and the confirmation page both lead.
"""

import pytest
from django.urls import reverse

from accounts.models import UserProfile
from payments.models import Payment
from shop.models import Order
from tests.live_stack import wait_for

from .conftest import (
    CARD_FRAME,
    CHALLENGE_FRAME,
    CHECKOUT_DONE_URL,
    CHECKOUT_PAY_URL,
    DECLINED,
    INSUFFICIENT_FUNDS,
    THREE_D_SECURE,
    VISA,
    _challenge_answer,
    add_to_cart,
    answer_challenge,
    card_ready,
    contractor_with_product,
    fill_card,
    log_in,
    new_buyer,
    pay_button,
    payment_error,
    start_checkout,
)

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox, pytest.mark.celery_worker]

CONFIRM_URL = "**/v1/payment_intents/*/confirm"


def order_statuses(buyer) -> list[str]:
    return sorted(Order.objects.filter(buyer=buyer).values_list("status", flat=True))


def wait_for_orders(buyer, *statuses: str, what: str) -> None:
    wait_for(lambda: order_statuses(buyer) == sorted(statuses), what=what)


def customer_cards(sandbox, buyer) -> list[str]:
    """The ids of the PaymentMethods attached to the buyer's Stripe Customer."""
    customer = UserProfile.objects.get(user=buyer).stripe_id
    assert customer.startswith("cus_")
    methods = sandbox.client().v1.customers.payment_methods.list(customer)
    return [method.id for method in methods.data]


def expect_decline(page, message: str) -> None:
    """The page shows our sentence for the decline and lets the buyer try again."""
    error = payment_error(page)
    error.filter(has_text=message).wait_for()
    assert error.inner_text() == message
    button = pay_button(page)
    assert button.is_enabled()
    assert button.get_attribute("aria-busy") == "false"
    assert button.locator(".spinner").is_hidden()


def test_visa_is_authorised_and_the_button_is_busy_meanwhile(page, shot, shop, live_stack):
    board = contractor_with_product(
        live_stack, "Alice Woodworks", title="Oak chopping board", price_amount=4500
    )
    buyer = new_buyer()
    log_in(page, shop, buyer)
    add_to_cart(page, shop, board)
    start_checkout(page, shop)
    assert page.locator("h1").inner_text() == "Pay $45.00"
    assert "Oak chopping board" in page.locator("table.summary").inner_text()
    assert pay_button(page).is_enabled()
    assert pay_button(page).locator(".spinner").is_hidden()
    shot("checkout")

    # Hold the confirmation at the network so the page's busy state can be seen.
    held = []
    page.route(CONFIRM_URL, lambda route: held.append(route))
    fill_card(page, VISA)
    shot("card-filled")
    pay_button(page).click()
    for _ in range(200):  # Playwright calls the route handler while the page is waited on
        if held:
            break
        page.wait_for_timeout(25)
    assert held, "the page never sent the PaymentIntent confirmation"
    button = pay_button(page)
    assert button.is_disabled()
    assert button.get_attribute("aria-busy") == "true"
    assert button.locator(".spinner").is_visible()
    shot("paying")
    held[0].continue_()

    page.wait_for_url(CHECKOUT_DONE_URL)
    shot("done")
    assert "your payment is authorised" in page.locator("h1").inner_text()
    assert "Authorised" in page.locator("table").inner_text()
    wait_for_orders(buyer, "authorized", what="the order to be authorised")
    payment = Payment.objects.get(order__buyer=buyer)
    assert (payment.status, payment.amount_authorized) == ("authorized", 4500)


def test_declined_cards_show_our_message_then_another_card_pays(page, shot, shop, live_stack):
    bowl = contractor_with_product(live_stack, "Bob Turner", title="Maple bowl", price_amount=8900)
    buyer = new_buyer()
    log_in(page, shop, buyer)
    add_to_cart(page, shop, bowl)
    start_checkout(page, shop)

    pay_button(page).click()  # nothing typed yet: the card element's own message
    expect_decline(page, "Your card number is incomplete.")
    shot("card-incomplete")

    fill_card(page, DECLINED)
    page.get_by_label("Save this card for next time").check()
    pay_button(page).click()
    expect_decline(page, "Your card was declined.")
    shot("declined")
    wait_for_orders(buyer, "failed", what="payment_intent.payment_failed to fail the order")

    page.goto(page.url + "done/")  # the buyer wanders off to the outcome page, and back
    assert page.locator("h1").inner_text() == "Your payment is not complete"
    assert "Your card was declined." in page.locator("table").inner_text()
    shot("outcome-not-complete")
    page.get_by_role("link", name="Try again").click()
    page.wait_for_url(CHECKOUT_PAY_URL)
    card_ready(page)

    fill_card(page, INSUFFICIENT_FUNDS)
    page.get_by_label("Save this card for next time").check()
    pay_button(page).click()
    expect_decline(page, "Your card has insufficient funds.")
    shot("insufficient-funds")
    payment = Payment.objects.get(order__buyer=buyer)
    wait_for(
        lambda: Payment.objects.get(pk=payment.pk).last_error_code == "insufficient_funds",
        what="the second decline to be recorded",
    )
    assert order_statuses(buyer) == ["failed"]

    fill_card(page, VISA)
    assert payment_error(page).inner_text() == ""  # typing a new card clears the message
    page.get_by_label("Save this card for next time").uncheck()  # changed their mind
    pay_button(page).click()
    page.wait_for_url(CHECKOUT_DONE_URL)
    shot("paid-with-another-card")
    assert "your payment is authorised" in page.locator("h1").inner_text()
    wait_for_orders(buyer, "authorized", what="the retried order to be authorised")
    payment.refresh_from_db()
    assert (payment.last_error_code, payment.last_error_message) == ("", "")
    assert customer_cards(live_stack, buyer) == []  # unticked in the end: not saved


def test_three_d_secure_fail_then_complete(page, shot, shop, live_stack):
    tune = contractor_with_product(
        live_stack, "Cara Strings", title="Guitar setup", price_amount=7500
    )
    buyer = new_buyer()
    log_in(page, shop, buyer)
    add_to_cart(page, shop, tune)
    start_checkout(page, shop)

    fill_card(page, THREE_D_SECURE)
    pay_button(page).click()
    page.frame_locator(CHALLENGE_FRAME).get_by_role("button", name="Fail authentication").wait_for()
    assert pay_button(page).is_disabled()
    shot("challenge")
    wait_for(
        lambda: Payment.objects.get(order__buyer=buyer).status == "requires_action",
        what="the payment to await 3-D Secure",
    )
    answer_challenge(page, "Fail authentication")
    expect_decline(page, "We could not authenticate your card. Try again or use another card.")
    assert page.locator(CHALLENGE_FRAME).count() == 0
    shot("authentication-failed")
    wait_for_orders(buyer, "failed", what="the failed authentication to fail the order")
    assert Payment.objects.get(order__buyer=buyer).status == "pending"

    pay_button(page).click()  # the same card, and this time the buyer authenticates
    answer_challenge(page, "Complete authentication")
    page.wait_for_url(CHECKOUT_DONE_URL)
    shot("authenticated")
    assert "your payment is authorised" in page.locator("h1").inner_text()
    wait_for_orders(buyer, "authorized", what="the authenticated order to be authorised")


def test_two_contractors_paid_at_once_without_keeping_the_card(page, shot, shop, live_stack):
    board = contractor_with_product(
        live_stack, "Alice Woodworks", title="Oak chopping board", price_amount=4500
    )
    tune = contractor_with_product(
        live_stack, "Cara Strings", title="Guitar setup", price_amount=7500
    )
    buyer = new_buyer()
    log_in(page, shop, buyer)
    add_to_cart(page, shop, board)
    add_to_cart(page, shop, tune)
    start_checkout(page, shop)
    assert page.locator("h1").inner_text() == "Pay $120.00"
    assert page.locator("table.summary tbody tr").count() == 2
    shot("checkout")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot("checkout-on-a-phone")

    fill_card(page, VISA)
    assert not page.locator("#save-card").is_checked()
    pay_button(page).click()
    page.wait_for_url(CHECKOUT_DONE_URL)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot("done-on-a-phone")
    assert "your payment is authorised" in page.locator("h1").inner_text()
    assert page.locator("table tbody tr").count() == 2
    wait_for_orders(buyer, "authorized", "authorized", what="both orders to be authorised")
    amounts = sorted(Payment.objects.filter(order__buyer=buyer).values_list("amount_authorized"))
    assert amounts == [(4500,), (7500,)]
    assert customer_cards(live_stack, buyer) == []  # not saved: nothing left on the customer


def test_a_saved_card_pays_the_next_checkout(page, shot, shop, live_stack):
    board = contractor_with_product(
        live_stack, "Alice Woodworks", title="Oak chopping board", price_amount=4500
    )
    buyer = new_buyer()
    log_in(page, shop, buyer)
    add_to_cart(page, shop, board)
    start_checkout(page, shop)
    fill_card(page, VISA)
    page.get_by_label("Save this card for next time").check()
    shot("saving-the-card")
    pay_button(page).click()
    page.wait_for_url(CHECKOUT_DONE_URL)
    assert "your payment is authorised" in page.locator("h1").inner_text()
    assert len(customer_cards(live_stack, buyer)) == 1

    add_to_cart(page, shop, board)
    start_checkout(page, shop)
    saved = page.get_by_label("Visa •••• 4242 (expires 12/34)")
    assert saved.is_checked()
    assert page.locator("#new-card").is_hidden()
    shot("saved-card-offered")
    page.get_by_label("A new card").check()  # the card element is there when wanted
    page.frame_locator(CARD_FRAME).locator("input[name=cardnumber]").wait_for()
    # Mounted while hidden, the element's frame grows to its form's height once shown.
    # (Polled from here: wait_for_function evaluates a string in the page, which the
    # pay page's Content-Security-Policy forbids.)
    frame = page.locator("#card-element iframe")
    wait_for(lambda: frame.evaluate("e => e.offsetHeight") > 44, what="the card form shown")
    shot("new-card-chosen")
    saved.check()
    assert page.locator("#new-card").is_hidden()
    pay_button(page).click()
    page.wait_for_url(CHECKOUT_DONE_URL)
    shot("paid-with-saved-card")
    assert "your payment is authorised" in page.locator("h1").inner_text()
    wait_for_orders(buyer, "authorized", "authorized", what="both checkouts to be authorised")
    assert len(customer_cards(live_stack, buyer)) == 1  # still saved for next time


def test_two_contractors_authenticate_once(page, shot, shop, live_stack):
    """A checkout of two contractors' orders is one authorisation on the card: the
    3-D Secure card asks for one challenge per attempt, whatever the number of
    contractors (issue #16; payments' separate charges and transfers)."""
    board = contractor_with_product(
        live_stack, "Alice Woodworks", title="Oak chopping board", price_amount=4500
    )
    tune = contractor_with_product(
        live_stack, "Cara Strings", title="Guitar setup", price_amount=7500
    )
    buyer = new_buyer()
    log_in(page, shop, buyer)
    add_to_cart(page, shop, board)
    add_to_cart(page, shop, tune)
    start_checkout(page, shop)
    answers = []
    page.on("request", lambda request: _challenge_answer(request) and answers.append(request))

    fill_card(page, THREE_D_SECURE)
    pay_button(page).click()
    answer_challenge(page, "Fail authentication")
    expect_decline(page, "We could not authenticate your card. Try again or use another card.")
    shot("authentication-failed")
    wait_for_orders(buyer, "failed", "failed", what="both orders to await another try")
    assert page.locator("h1").inner_text() == "Pay $120.00"  # still the whole checkout

    pay_button(page).click()  # the same card, and this time the buyer authenticates
    answer_challenge(page, "Complete authentication")
    page.wait_for_url(CHECKOUT_DONE_URL)
    shot("done")
    assert len(answers) == 2  # one challenge per attempt, not one per contractor
    assert "your payment is authorised" in page.locator("h1").inner_text()
    wait_for_orders(buyer, "authorized", "authorized", what="both orders to be authorised")
    intents = set(
        Payment.objects.filter(order__buyer=buyer).values_list("stripe_payment_intent_id")
    )
    assert len(intents) == 1
    assert customer_cards(live_stack, buyer) == []


def test_payment_service_unreachable_then_retry_pays(page, shot, shop, live_stack):
    board = contractor_with_product(
        live_stack, "Alice Woodworks", title="Oak chopping board", price_amount=4500
    )
    buyer = new_buyer()
    log_in(page, shop, buyer)
    add_to_cart(page, shop, board)
    live_stack.control(
        "POST", "/_sandbox/faults", {"path": "/v1/payment_intents", "kind": "500", "count": 1}
    )
    page.goto(shop + reverse("shop:cart"))
    page.get_by_role("button", name="Checkout").click()
    page.wait_for_url(CHECKOUT_PAY_URL)
    assert page.locator("h1").inner_text() == "Payment service is unreachable, please retry"
    shot("stripe-api-unreachable")
    assert order_statuses(buyer) == ["pending"]  # the order waits, nothing lost

    # Stripe.js itself does not load: the page says so instead of a dead Pay button.
    page.route("**/v3/**", lambda route: route.abort())
    page.get_by_role("link", name="Retry").click()
    payment_error(page).filter(has_text="Payment service is unreachable").wait_for()
    assert pay_button(page).is_disabled()
    shot("stripe-js-unreachable")

    page.unroute("**/v3/**")
    page.reload()
    card_ready(page)
    assert payment_error(page).inner_text() == ""
    fill_card(page, VISA)
    pay_button(page).click()
    page.wait_for_url(CHECKOUT_DONE_URL)
    shot("done")
    wait_for_orders(buyer, "authorized", what="the retried order to be authorised")
