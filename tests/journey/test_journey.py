"""The journey a newcomer takes through `make demo`, in Chromium, against the real
web server, Celery worker and beat, and Stripe sandbox that the launcher starts.

A new contractor signs up and finishes hosted onboarding, and staff list a product
for them in admin; the demo buyer pays two contractors at once with 4242…, pays the
new contractor with the 3-D Secure card, and is declined with 4000…0002; Alice
fulfils her order and the worker captures it; her dashboard shows the pending
balance; staff refund part of the order in admin; the buyer sees it partially
refunded, and is told so. Every step leaves a screenshot in
test-artifacts/journey/test_journey/.
"""

import re
import time

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "demo-pass-2026"  # seed_demo's published demo password
NEW_PASSWORD = "a-long-journey-password-88"
CARD_FRAME = 'iframe[title="Secure card payment input frame"]'
CHALLENGE_FRAME = 'iframe[title="3D Secure authentication"]'
PAY_URL = re.compile(r"/checkout/[0-9a-f-]{36}/$")
SHIPPING_OR_PAY_URL = re.compile(r"/checkout/[0-9a-f-]{36}/(shipping/)?$")
DONE_URL = re.compile(r"/checkout/[0-9a-f-]{36}/done/")

VISA = "4242 4242 4242 4242"
THREE_D_SECURE = "4000 0025 0000 3155"
DECLINED = "4000 0000 0000 0002"


# True when none of the elements is wider inside than it shows (no clipped or scrolled
# content), e.g. a table spilling out of its card.
NOTHING_SPILLS = """selector => [...document.querySelectorAll(selector)]
    .every(element => element.scrollWidth <= element.clientWidth)"""


def wait_until(page, check, *, timeout: float, what: str, every: float = 0.5) -> None:
    """Reload the page until `check()` is true: the worker and webhooks run elsewhere."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} on {page.url}")
        page.wait_for_timeout(every * 1000)
        page.reload()


def log_in(page, site, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def admin_log_in(page, site) -> None:
    page.goto(f"{site.url}/admin/login/")
    page.fill("input[name=username]", "staff@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}/admin/")


def add_to_cart(page, site, slug: str) -> None:
    page.goto(f"{site.url}/products/{slug}/")
    page.get_by_role("button", name="Add to cart").click()
    page.locator(".message.success").wait_for()


def ship_to(page) -> None:
    """The address step of a cart with shipped goods (filled in again if remembered)."""
    page.get_by_label("Full name").fill("Demo Buyer")
    page.get_by_label(re.compile(r"^Address:?$")).fill("350 Fifth Avenue")
    page.get_by_label("City").fill("New York")
    page.get_by_label("Postal code").fill("10118")
    page.get_by_label("State / province").fill("NY")
    page.get_by_label("Country").select_option("US")
    page.get_by_role("button", name="Continue to payment").click()


def checkout(page, site) -> None:
    page.goto(f"{site.url}/cart/")
    page.get_by_role("button", name="Checkout").click()
    page.wait_for_url(SHIPPING_OR_PAY_URL)
    if page.url.endswith("/shipping/"):  # shipped goods: the address comes before paying
        ship_to(page)
    page.wait_for_url(PAY_URL)
    new_card = page.get_by_label("A new card")
    if new_card.count():  # the demo buyer's saved default card is preselected
        new_card.check()
    page.frame_locator(CARD_FRAME).locator("input[name=cardnumber]").wait_for()


def fill_card(page, number: str) -> None:
    frame = page.frame_locator(CARD_FRAME)
    frame.locator("input[name=cardnumber]").press_sequentially(number)
    frame.locator("input[name=exp-date]").fill("12 / 34")
    frame.locator("input[name=cvc]").fill("123")
    frame.locator("input[name=postal]").fill("10001")


def order_row(page, item: str):
    return page.locator("tbody tr").filter(has_text=item)


def test_the_whole_journey(demo, journey):
    site = demo
    shot, step = journey.shot, journey.step

    # 1. A new contractor signs up and completes Stripe's hosted onboarding.
    carol = journey.person()
    with step("contractor signs up and onboards"):
        carol.goto(f"{site.url}/accounts/signup/")
        carol.get_by_label("Email address").fill("carol@example.com")
        carol.get_by_label("Name shown to others").fill("Carol's Ceramics")
        carol.get_by_label("Sell as a contractor").check()
        carol.locator("#id_password1").fill(NEW_PASSWORD)
        carol.locator("#id_password2").fill(NEW_PASSWORD)
        shot(carol, "contractor-signup")
        carol.get_by_role("button", name="Sign up").click()
        carol.wait_for_url(f"{site.url}/accounts/signup/sent/")
        assert carol.locator("h1").inner_text() == "Check your email"
        carol.goto(site.emailed_link("carol@example.com", "/accounts/signup/confirm/"))
        carol.get_by_role("button", name="Confirm and sign in").click()
        carol.wait_for_url(f"{site.url}/accounts/onboarding/")
        assert carol.locator("h1").inner_text() == "Get paid with Stripe"
        shot(carol, "onboarding")
        carol.get_by_role("button", name="Continue onboarding with Stripe").click()
        carol.wait_for_url(f"{site.sandbox}/**")  # Stripe's (the sandbox's) hosted page
        carol.get_by_role("button", name="Use test data").click()
        shot(carol, "hosted-onboarding")
        carol.get_by_role("button", name="Agree and submit").click()
        carol.wait_for_url(f"{site.url}/accounts/dashboard/")
        assert "you can now sell" in carol.locator(".message.success").inner_text()
        assert "You can sell" in carol.locator(".dashboard").inner_text()
        shot(carol, "contractor-can-sell")

    # Staff list a product for her in Django admin.
    staff = journey.person()
    with step("staff add a product for the new contractor in admin"):
        admin_log_in(staff, site)
        staff.goto(f"{site.url}/admin/shop/product/add/")
        staff.locator("#id_seller").select_option(label="carol@example.com")
        staff.locator("#id_title").fill("Stoneware mug")  # the slug follows, in admin's JS
        # A new listing says whether it ships (nothing is preselected): a mug does.
        staff.get_by_label("Shipped goods").check()
        staff.locator("#id_description").fill("Thrown and glazed by hand.")
        staff.locator("#id_currency").select_option("usd")
        staff.locator("#id_price").fill("28.00")  # major units, as sellers type them
        assert staff.locator("#id_slug").input_value() == "stoneware-mug"
        shot(staff, "admin-add-product")
        staff.get_by_role("button", name="Save", exact=True).click()
        staff.locator(".messagelist .success").wait_for()

    # 2. The demo buyer pays Alice and Bob at once with 4242….
    buyer = journey.person()
    with step("buyer pays two contractors with 4242"):
        log_in(buyer, site, "buyer@example.com")
        buyer.goto(f"{site.url}/")
        assert buyer.get_by_role("heading", name="Stoneware mug").is_visible()
        shot(buyer, "catalogue")
        add_to_cart(buyer, site, "oak-cutting-board")  # Alice's Workshop, $45.00
        add_to_cart(buyer, site, "bike-tune-up")  # Bob's Bike Repair, $75.00
        buyer.goto(f"{site.url}/cart/")
        shot(buyer, "cart")
        checkout(buyer, site)
        assert buyer.locator("h1").inner_text() == "Pay $120.00"
        fill_card(buyer, VISA)
        shot(buyer, "pay-card-filled")
        buyer.locator("#pay-button").click()
        buyer.wait_for_url(DONE_URL)
        assert "your payment is authorised" in buyer.locator("h1").inner_text()
        rows = buyer.locator("tbody tr")
        assert rows.count() == 2
        assert rows.filter(has_text="Authorised").count() == 2
        alice_order = rows.filter(has_text="Alice's Workshop").get_by_role("link")
        order_id = alice_order.get_attribute("href").rstrip("/").rsplit("/", 1)[1]
        shot(buyer, "confirmation")

    # 3. Another checkout, with the card that asks for 3-D Secure.
    with step("buyer pays the new contractor with 3-D Secure"):
        add_to_cart(buyer, site, "stoneware-mug")
        checkout(buyer, site)
        fill_card(buyer, THREE_D_SECURE)
        buyer.locator("#pay-button").click()
        challenge = buyer.frame_locator(CHALLENGE_FRAME)
        challenge.get_by_role("button", name="Complete authentication").wait_for()
        shot(buyer, "3ds-challenge")
        challenge.get_by_role("button", name="Complete authentication").click()
        buyer.wait_for_url(DONE_URL)
        assert "your payment is authorised" in buyer.locator("h1").inner_text()
        assert "Authorised" in order_row(buyer, "Carol's Ceramics").inner_text()
        shot(buyer, "3ds-authorised")

    # 4. A declined card: the pay page says so, kindly.
    with step("a declined card shows its message"):
        add_to_cart(buyer, site, "puncture-repair")
        checkout(buyer, site)
        fill_card(buyer, DECLINED)
        buyer.locator("#pay-button").click()
        error = buyer.locator("#payment-error")
        error.filter(has_text="Your card was declined.").wait_for()
        assert error.inner_text() == "Your card was declined."
        assert buyer.locator("#pay-button").is_enabled()  # free to try another card
        shot(buyer, "declined")

    # 5. Alice fulfils her order; the worker captures the payment.
    alice = journey.person()
    with step("contractor marks the order fulfilled, worker captures"):
        log_in(alice, site, "alice@example.com")
        alice.get_by_role("navigation").get_by_role("link", name="Sales").click()
        sale = order_row(alice, "Oak cutting board")
        assert "Authorised" in sale.inner_text()
        assert "$45.00" in sale.inner_text()
        net = sale.locator("td.num").nth(2).inner_text()  # Amount, Fee, You get
        assert net == "$40.20"  # $45.00 − (10 % + $0.30) platform fee
        shot(alice, "sales-authorised")
        # The board ships: it is fulfilled on the sale's page, with its tracking.
        sale.get_by_role("link", name="Add tracking and fulfil").click()
        alice.get_by_label("Carrier").fill("Royal Mail")
        alice.get_by_label("Tracking number").fill("RM123456785GB")
        alice.get_by_role("button", name="Mark fulfilled").click()
        alice.locator(".message.success").wait_for()
        alice.get_by_role("navigation").get_by_role("link", name="Sales").click()
        wait_until(
            alice,
            lambda: "Paid" in order_row(alice, "Oak cutting board").locator(".status").inner_text(),
            timeout=20,
            what="the worker to capture the payment",
        )
        shot(alice, "sales-paid")

    # 6. Her dashboard shows the money, pending at Stripe (the sandbox keeps it 60 s).
    with step("dashboard shows the pending balance"):
        alice.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
        alice.get_by_role("button", name="Refresh balance").click()
        alice.locator(".message.info").filter(has_text="Balance updated.").wait_for()
        assert alice.locator(".balance-pending").inner_text() == net
        assert alice.locator(".balance-available").inner_text() == "$0.00"
        assert alice.evaluate(NOTHING_SPILLS, ".dashboard .card"), "a dashboard card overflows"
        shot(alice, "dashboard-balance")

    # 7. Staff refund $10.00 of it in admin; the worker and the webhooks finish it.
    with step("staff refund part of the order in admin"):
        staff.goto(f"{site.url}/admin/shop/order/?q={order_id}")
        staff.get_by_role("link", name=order_id).click()
        assert staff.locator(".field-status .readonly").inner_text() == "Paid"
        shot(staff, "admin-order")
        staff.get_by_role("link", name="Refund…").click()
        staff.locator("#id_amount").fill("10.00")
        staff.locator("#id_reason").select_option("requested_by_customer")
        staff.locator("#id_note").fill("One corner was chipped.")
        shot(staff, "admin-refund-form")
        staff.get_by_role("button", name="Refund", exact=True).click()
        staff.locator(".messagelist .success").filter(has_text="Refund of $10.00").wait_for()
        wait_until(
            staff,
            lambda: staff.locator(".field-status .readonly").inner_text() == "Partially refunded",
            timeout=20,
            what="the refund to be confirmed",
        )
        assert "Succeeded" in staff.locator(".field-refunds .readonly").inner_text()
        shot(staff, "admin-partially-refunded")

    # 8. The buyer sees it on their orders page, and in their notifications.
    with step("buyer sees the partial refund"):
        buyer.get_by_role("navigation").get_by_role("link", name="Orders").click()
        row = order_row(buyer, "Oak cutting board")
        assert row.locator(".status").inner_text() == "Partially refunded"
        assert order_row(buyer, "Tune-up").locator(".status").inner_text() == "Authorised"
        assert order_row(buyer, "Stoneware mug").locator(".status").inner_text() == "Authorised"
        assert order_row(buyer, "Puncture repair").locator(".status").inner_text() == (
            "Payment failed"
        )
        shot(buyer, "buyer-orders")
        buyer.get_by_role("navigation").get_by_role("link", name="Notifications").click()
        confirmed = buyer.locator(".notifications li").filter(has_text="Refund of $10.00 confirmed")
        wait_until(
            buyer,
            lambda: confirmed.count() == 1,
            timeout=15,
            what="the refund notification",
        )
        shot(buyer, "buyer-notifications")
