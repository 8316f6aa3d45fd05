"""A seller's own shop, in Chromium, against the processes `make demo` starts.

A new contractor signs up, proves her email, finishes Stripe's hosted onboarding at
the sandbox and lists a shipped product with a photo (a PNG drawn here with Pillow).
A new buyer buys it, giving a shipping address before the pay step. The contractor
reads the address on the sale and marks it fulfilled with a carrier and tracking
number; the buyer sees them on the order and in the email that tells them it was
charged. Screenshots (NN-seller-….png) go to test-artifacts/journey/test_seller_journey/.
"""

import re
import time

import pytest
from PIL import Image, ImageDraw

from tests.journey.test_journey import (
    DONE_URL,
    NEW_PASSWORD,
    PAY_URL,
    VISA,
    fill_card,
    order_row,
    wait_until,
)

pytestmark = pytest.mark.e2e

SHIPPING_URL = re.compile(r"/checkout/[0-9a-f-]{36}/shipping/$")
TRACKING = "1Z999AA10123456784"


def sign_up(page, site, email: str, name: str, *, sell: bool) -> None:
    """Sign up and open the one-time link the shop emails (a file in the demo)."""
    page.goto(f"{site.url}/accounts/signup/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Name shown to others").fill(name)
    page.get_by_label("Sell as a contractor" if sell else "Buy from contractors").check()
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.locator("#id_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{site.url}/accounts/signup/sent/")
    page.goto(site.emailed_link(email, "/accounts/signup/confirm/"))
    page.get_by_role("button", name="Confirm and sign in").click()
    page.wait_for_url(lambda url: "/accounts/signup/" not in url)


def product_photo(path) -> str:
    """A plain picture of a vase, as a PNG file to upload."""
    image = Image.new("RGB", (800, 600), (228, 236, 244))
    draw = ImageDraw.Draw(image)
    draw.ellipse([300, 220, 500, 540], fill=(40, 90, 160))
    draw.rectangle([360, 120, 440, 260], fill=(40, 90, 160))
    image.save(path, format="PNG")
    return str(path)


def emailed_text(site, to: str, containing: str, timeout: float = 30) -> str:
    """The body of the first email to `to` that contains `containing`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sorted((site.var_dir / "emails").glob("*.log")):
            for block in message.read_text(errors="replace").split("-" * 79):
                if f"To: {to}" in block and containing in block:
                    return block
        time.sleep(0.3)
    raise AssertionError(f"no email to {to} containing {containing!r}")


def test_a_new_seller_lists_ships_and_the_buyer_follows_the_parcel(demo, journey, tmp_path):
    site = demo
    shot, step = journey.shot, journey.step

    dora = journey.person()
    with step("seller signs up and onboards"):
        sign_up(dora, site, "dora@example.com", "Dora's Pottery", sell=True)
        dora.wait_for_url(f"{site.url}/accounts/onboarding/")
        dora.get_by_role("button", name="Continue onboarding with Stripe").click()
        dora.wait_for_url(f"{site.sandbox}/**")  # the sandbox's hosted onboarding
        dora.get_by_role("button", name="Use test data").click()
        dora.get_by_role("button", name="Agree and submit").click()
        dora.wait_for_url(f"{site.url}/accounts/dashboard/")
        assert "you can now sell" in dora.locator(".message.success").inner_text()

    with step("seller lists a shipped product with a photo"):
        dora.goto(f"{site.url}/sell/products/new/")
        dora.get_by_label("Title").fill("Glazed vase")
        dora.get_by_label("Shipped goods").check()
        dora.get_by_label("Description").fill("Thrown, glazed in cobalt blue.")
        dora.get_by_label("Currency").select_option("usd")
        dora.get_by_label("Price").fill("60.00")
        dora.get_by_label("In stock").fill("1")
        shot(dora, "seller-new-product")
        dora.get_by_role("button", name="List this product").click()
        dora.locator(".message.success").filter(has_text="Now add some photos").wait_for()
        photo = dora.get_by_label(re.compile(r"^Photo:?$"))
        photo.set_input_files(product_photo(tmp_path / "vase.png"))
        dora.get_by_label("Describe the photo").fill("A cobalt blue vase")
        dora.get_by_role("button", name="Upload photo").click()
        dora.locator(".photo-list img[alt='A cobalt blue vase']").wait_for()
        shot(dora, "seller-product-photo")

    eve = journey.person()
    with step("buyer buys it, giving a shipping address"):
        sign_up(eve, site, "eve@example.com", "Eve", sell=False)
        eve.goto(f"{site.url}/products/glazed-vase/")
        assert eve.locator("img[alt='A cobalt blue vase']").count() >= 1
        eve.get_by_role("button", name="Add to cart").click()
        eve.locator(".message.success").wait_for()
        eve.goto(f"{site.url}/cart/")
        eve.get_by_role("button", name="Checkout").click()
        eve.wait_for_url(SHIPPING_URL)  # the address comes before the pay step
        eve.get_by_label("Full name").fill("Eve Example")
        eve.get_by_label(re.compile(r"^Address:?$")).fill("1 Infinite Loop")
        eve.get_by_label("City").fill("Cupertino")
        eve.get_by_label("Postal code").fill("99999")
        eve.get_by_label("Country").select_option("US")
        eve.get_by_role("button", name="Continue to payment").click()
        # Without a state the US address is refused, on the field, and nothing is lost.
        eve.locator(".field.has-error").filter(has_text="Enter the state").wait_for()
        assert eve.get_by_label("City").input_value() == "Cupertino"
        eve.get_by_label("Postal code").fill("95014")
        eve.get_by_label("State / province").fill("ca")
        shot(eve, "seller-journey-shipping-address")
        eve.get_by_role("button", name="Continue to payment").click()
        eve.wait_for_url(PAY_URL)
        assert "1 Infinite Loop" in eve.locator(".shipping-address").inner_text()
        fill_card(eve, VISA)
        eve.locator("#pay-button").click()
        eve.wait_for_url(DONE_URL)
        assert "your payment is authorised" in eve.locator("h1").inner_text()

    with step("seller reads the address and ships with a tracking number"):
        dora.get_by_role("navigation").get_by_role("link", name="Sales").click()
        order_row(dora, "Glazed vase").get_by_role("link", name="Details and address").click()
        address = dora.locator(".shipping-address address").inner_text()
        assert address.splitlines() == [
            "Eve Example",
            "1 Infinite Loop",
            "95014 Cupertino, CA",
            "US",
        ]
        dora.get_by_label("Carrier").fill("UPS")
        dora.get_by_label("Tracking number").fill(TRACKING)
        shot(dora, "seller-sale-detail")
        dora.get_by_role("button", name="Mark fulfilled").click()
        dora.locator(".message.success").filter(has_text="Marked fulfilled").wait_for()
        assert f"tracking number {TRACKING}" in dora.locator(".tracking").inner_text()

    with step("buyer sees the tracking number on the order and in the email"):
        eve.get_by_role("navigation").get_by_role("link", name="Orders").click()
        order_row(eve, "Glazed vase").get_by_role("link").first.click()
        tracking = eve.locator(".tracking")
        assert tracking.inner_text() == f"Sent with UPS, tracking number {TRACKING}."
        wait_until(
            eve,
            lambda: eve.locator(".status").first.inner_text() == "Paid",
            timeout=20,
            what="the worker to capture the payment",
        )
        shot(eve, "seller-journey-buyer-tracking")
        email = emailed_text(site, "eve@example.com", TRACKING)
        assert f"It is on its way with UPS: tracking number {TRACKING}." in email
