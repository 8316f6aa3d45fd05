"""More pages on a phone (360 and 390 px wide): a buyer's shipped order, a contractor's
sale, the pay page with two saved cards, notifications, the seller's products and the
dashboard's sales totals. Nothing is wider than the screen
(`document.documentElement.scrollWidth <= innerWidth`), with the long addresses,
titles and tracking numbers real people have.

Django's live server and Chromium; the pay page also needs the sandbox and a worker
(the live stack), as the real Stripe.js page does. Each page leaves a screenshot in
test-artifacts/e2e/phone-pages/<width>-<page>.png.
"""

import datetime

import pytest
from django.urls import reverse

from notifications.models import Notification
from payments.services.customers import buyer_customer_ensure
from shop.models import Order
from tests.factories import (
    BuyerFactory,
    ContractorFactory,
    OrderFactory,
    OrderItemFactory,
    ProductFactory,
)
from tests.phones import PHONES, assert_fits, watched_page
from tests.sandbox.helpers import custom_account

from .conftest import ARTIFACTS, CARD_FRAME, add_to_cart, log_in, start_checkout

pytestmark = pytest.mark.e2e

# Whether an element scrolls sideways inside itself (hiding what is off to the right).
SCROLLS_INSIDE = "e => e.scrollWidth > e.clientWidth + 0.5"
# Whether the element `selector` stays inside the padding of the card around it.
INSIDE_ITS_CARD = """selector => {
  const e = document.querySelector(selector), card = e.closest('.card');
  const padding = parseFloat(getComputedStyle(card).paddingRight);
  const inner = card.getBoundingClientRect().right - padding;
  return e.getBoundingClientRect().right <= inner + 0.5;
}"""

LONG_BUYER = "a.buyer.with.a.remarkably.long.address@subdomain.example.com"
LONG_SELLER = "a.contractor.with.a.remarkably.long.address@subdomain.example.com"
ACCOUNT = "acct_1PhonePagesTest00001"


@pytest.fixture(params=sorted(PHONES))
def phone(request, browser):
    """A phone-sized page; script errors and CSP violations fail the test."""
    with watched_page(browser, PHONES[request.param], device_scale_factor=1) as page:
        page.width = request.param  # type: ignore[attr-defined]
        yield page


def fits(page, name: str) -> None:
    """The page is no wider than the screen; its screenshot is kept either way."""
    width = int(page.width)
    assert_fits(page, ARTIFACTS / "phone-pages", f"{width}-{name}", width)


def seller_with_sales():
    return ContractorFactory(
        email=LONG_SELLER,
        profile__display_name="Alice's Extraordinarily Well-Named Woodworking Studio",
        profile__stripe_id=ACCOUNT,
        profile__charges_enabled=True,
        profile__payouts_enabled=True,
        profile__details_submitted=True,
    )


def shipped_order(buyer, seller, status=Order.Status.CAPTURED, **fields):
    """An order of shipped goods, sent with a carrier and a long tracking number."""
    order = OrderFactory(
        buyer=buyer,
        seller=seller,
        status=status,
        amount=1_234_567,
        fee_amount=37_337,
        requires_shipping=True,
        shipping_name="Bartholomew Fitzgerald-Montgomery",
        shipping_line1="1234 Extraordinarily Long Boulevard Name, Building C",
        shipping_line2="Apartment 5678, attention: the reception desk on floor 12",
        shipping_city="San Francisco",
        shipping_postal_code="94107-1234",
        shipping_state="CA",
        shipping_country="US",
        **fields,
    )
    OrderItemFactory(
        order=order,
        title="Hand-turned walnut salad bowl, extra large, with matching servers",
        unit_amount=617_283,
        quantity=2,
    )
    OrderItemFactory(order=order, title="Gift wrap", unit_amount=1, quantity=1)
    return order


TRACKED = {
    "carrier": "United Parcel Service Worldwide Express Saver",
    "tracking_number": "1Z999AA10123456784FEDCBA9876543210",
}


@pytest.mark.django_db(transaction=True)
def test_the_buyers_shipped_order_fits_a_phone(phone, live_server):
    buyer = BuyerFactory(email=LONG_BUYER)
    order = shipped_order(buyer, seller_with_sales(), **TRACKED)
    log_in(phone, live_server.url, buyer)

    phone.goto(live_server.url + reverse("shop:order_detail", args=[order.public_id]))

    tracking = phone.locator(".tracking")
    assert TRACKED["tracking_number"] in tracking.inner_text()
    fits(phone, "order-shipped")
    phone.get_by_role("button", name="Menu").click()
    assert phone.get_by_role("link", name=LONG_BUYER).is_visible()
    fits(phone, "order-shipped-menu-open")


@pytest.mark.django_db(transaction=True)
def test_the_contractors_sales_fit_a_phone(phone, live_server):
    seller = seller_with_sales()
    buyer = BuyerFactory(email=LONG_BUYER)
    shipped = shipped_order(buyer, seller, **TRACKED)
    to_ship = shipped_order(buyer, seller, status=Order.Status.AUTHORIZED)
    log_in(phone, live_server.url, seller)

    phone.goto(live_server.url + reverse("shop:sale_detail", args=[shipped.public_id]))
    assert LONG_BUYER in phone.locator(".facts").inner_text()
    fits(phone, "sale-shipped")

    # Awaiting fulfilment: the form that asks for the carrier and tracking number.
    phone.goto(live_server.url + reverse("shop:sale_detail", args=[to_ship.public_id]))
    assert phone.get_by_role("button", name="Mark fulfilled").is_visible()
    fits(phone, "sale-to-ship")


@pytest.mark.django_db(transaction=True)
def test_notifications_fit_a_phone(phone, live_server):
    buyer = BuyerFactory(email=LONG_BUYER)
    for n, body in enumerate(
        [
            "Your order 3f2c9a1b was charged $12,345.67 by Alice's Extraordinarily Well-Named"
            " Woodworking Studio.",
            # What a message can hold that does not break: ids and addresses.
            f"Refund re_3PhonePagesRefundIdentifierThatIsVeryLong0001 went to {LONG_BUYER}.",
        ]
    ):
        Notification.objects.create(
            recipient=buyer,
            kind="order_paid",
            key=f"phone-{n}",
            subject=f"Order 3f2c9a1b-{n}: paid, and on its way to you with tracking",
            body_text=body,
            link=reverse("shop:order_list"),
        )
    log_in(phone, live_server.url, buyer)

    phone.goto(live_server.url + reverse("notifications:list"))

    assert phone.locator(".notifications li").count() == 2
    fits(phone, "notifications")


@pytest.mark.django_db(transaction=True)
def test_the_sellers_products_fit_a_phone(phone, live_server):
    seller = seller_with_sales()
    for n, title in enumerate(
        [
            "Hand-turned walnut salad bowl, extra large, with matching servers",
            "Oak",
            "Commission:AcustomDiningTableDesignedAroundYourRoomAndSeating",
        ]
    ):
        ProductFactory(seller=seller, title=title, price_amount=12_345_678, active=n != 1)
    log_in(phone, live_server.url, seller)

    phone.goto(live_server.url + reverse("shop:seller_products"))

    assert phone.locator(".seller-product").count() == 3
    fits(phone, "seller-products")


@pytest.mark.django_db(transaction=True)
def test_the_dashboards_sales_totals_stack_on_a_phone(phone, live_server):
    """Each currency's totals are a card of lines: fees, refunds and net are on the
    screen, not in a table that scrolls sideways inside its card."""
    seller = seller_with_sales()
    buyer = BuyerFactory(email=LONG_BUYER)
    for currency, amount in (("usd", 123_456_789), ("eur", 98_765_432)):
        OrderFactory(
            buyer=buyer,
            seller=seller,
            currency=currency,
            amount=amount,
            fee_amount=amount // 30,
            status=Order.Status.CAPTURED,
        )
    log_in(phone, live_server.url, seller)
    phone.goto(live_server.url + reverse("accounts:dashboard"))

    totals = phone.locator(".earnings-table")
    totals.scroll_into_view_if_needed()
    assert not totals.locator("xpath=ancestor::section[1]").evaluate(SCROLLS_INSIDE)
    net = totals.locator("tbody tr").first.locator("td").last
    box = net.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= int(phone.width)
    assert "Net before refunds" in net.evaluate("e => getComputedStyle(e, '::before').content")
    fits(phone, "dashboard-sales")


def save_card(stripe, customer: str, number: str, exp_year: int) -> str:
    """A card saved on `customer` as the add page does it (a confirmed SetupIntent)."""
    card = stripe.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": exp_year}}
    )
    setup = stripe.v1.setup_intents.create(params={"customer": customer})
    stripe.v1.setup_intents.confirm(setup.id, {"payment_method": card.id})
    return card.id


@pytest.mark.sandbox
@pytest.mark.celery_worker
def test_the_pay_page_with_two_saved_cards_fits_a_phone(phone, shop, live_stack):
    stripe = live_stack.client()
    account = custom_account(stripe)
    seller = ContractorFactory(profile__stripe_id=account.id, profile__charges_enabled=True)
    product = ProductFactory(
        seller=seller,
        title="Hand-turned walnut salad bowl, extra large, with matching servers",
        price_amount=1_234_567,
    )
    buyer = BuyerFactory(email=LONG_BUYER)
    customer = buyer_customer_ensure(user_id=buyer.pk)
    year = datetime.date.today().year + 3
    visa = save_card(stripe, customer, "4242424242424242", year)
    save_card(stripe, customer, "5555555555554444", year)
    stripe.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": visa}})
    log_in(phone, shop, buyer)
    add_to_cart(phone, shop, product)

    start_checkout(phone, shop)

    choices = phone.locator('input[name="payment_method"]')
    assert choices.count() == 3  # the two saved cards and "A new card"
    assert phone.locator('input[name="payment_method"]:checked').get_attribute("value") == visa
    assert phone.locator(".saved-cards").is_visible()
    # Within its card too, not only within the screen.
    assert phone.evaluate(INSIDE_ITS_CARD, ".checkout .summary"), "the pay summary"
    fits(phone, "pay-two-saved-cards")
    phone.locator('input[name="payment_method"][value="new"]').check()
    phone.locator("#new-card").wait_for()
    # The element's second row (expiry, CVC, ZIP on a phone) is there to type in.
    phone.frame_locator(CARD_FRAME).locator("input[name=postal]").wait_for(state="visible")
    fits(phone, "pay-new-card")

    # The saved cards' own page, and the question before one is removed.
    phone.goto(shop + reverse("accounts:payment_methods"))
    assert phone.locator(".saved-card").count() == 2
    fits(phone, "payment-methods-two-cards")
    phone.get_by_role("button", name="Remove the card ending 4444").click()
    phone.wait_for_url("**/payment-methods/remove/?payment_method=*")
    assert phone.get_by_role("button", name="Yes, remove the card ending 4444").is_visible()
    fits(phone, "remove-a-card")
