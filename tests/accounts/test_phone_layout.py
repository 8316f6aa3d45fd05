"""The account pages and the contractor's dashboard on a phone (390 × 844, and 360 wide):
nothing is wider than the screen, and the header folds its links behind a Menu button.

Debian's Chromium driven by Playwright through Django's live server (no sandbox or
worker needed). Without Chromium or Playwright the tests skip, unless REQUIRE_SERVICES
is set (CI). Each page leaves a screenshot in test-artifacts/accounts-phone/.
"""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from django.utils import timezone

from payments.models import BalanceSnapshot, Payout
from shop.models import Order
from tests.factories import PASSWORD, BuyerFactory, ContractorFactory, OrderFactory
from tests.phones import PHONES, assert_fits, watched_page

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "accounts-phone"


@pytest.fixture(scope="module")
def browser(request):
    reason = None
    if not os.path.exists(CHROMIUM):
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        reason = "Playwright is not installed (pip install playwright)"
    if reason and os.environ.get("REQUIRE_SERVICES"):
        pytest.fail(f"REQUIRE_SERVICES is set but {reason}")
    if reason:
        pytest.skip(reason)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    playwright = request.getfixturevalue("playwright_session")  # tests/conftest.py
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(params=sorted(PHONES))
def phone(request, browser):
    """A phone-sized page; CSP violations and script errors fail the test."""
    with watched_page(browser, PHONES[request.param], device_scale_factor=1) as page:
        page.width = request.param  # type: ignore[attr-defined]
        yield page


def fits(page, name: str) -> None:
    """The page is no wider than the screen; its screenshot is kept either way."""
    width = int(page.width)
    assert_fits(page, ARTIFACTS, f"{width}-{name}", width)


def log_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def busy_contractor():
    """A contractor with everything the dashboard can show: a restricted account with
    requirements, balances, payouts, sales in two currencies."""
    seller = ContractorFactory(
        email="a.contractor.with.a.long.address@example.com",
        profile__stripe_id="acct_1PhoneLayoutTest0001",
        profile__details_submitted=True,
        profile__requirements={
            "currently_due": ["individual.verification.document", "company.tax_id"],
            "disabled_reason": "requirements.past_due",
        },
    )
    now = timezone.now()
    for currency, amount in (("usd", 1_234_567), ("eur", 89_000)):
        BalanceSnapshot.objects.create(
            contractor=seller,
            account="acct_1PhoneLayoutTest0001",
            currency=currency,
            available_amount=amount,
            pending_amount=amount // 3,
            fetched_at=now,
        )
        OrderFactory(seller=seller, currency=currency, amount=amount, status=Order.Status.CAPTURED)
    for n, status in enumerate(["paid", "in_transit", "failed"]):
        Payout.objects.create(
            stripe_id=f"po_1PhoneLayoutTestPayout{n:04d}",
            contractor=seller,
            account="acct_1PhoneLayoutTest0001",
            amount=150_000,
            currency="usd",
            status=status,
            arrival_date=now,
            failure_message="The bank account was closed." if status == "failed" else "",
        )
    return seller


@pytest.mark.django_db(transaction=True)
def test_visitor_pages_fit_a_phone(phone, live_server):
    for name, path in [
        ("login", "/accounts/login/"),
        ("signup", "/accounts/signup/?role=contractor"),
        ("password-reset", "/accounts/password/reset/"),
    ]:
        phone.goto(live_server.url + path)
        fits(phone, name)
    # Sent, with the address shown back: a long one must wrap, not widen the page.
    phone.fill("input[name=email]", "someone.with.a.really.long.address@subdomain.example.com")
    phone.click("main button[type=submit]")
    phone.wait_for_url("**/password/reset/sent/")
    fits(phone, "password-reset-sent")


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_fits_a_phone_and_the_menu_opens(phone, live_server):
    log_in(phone, live_server, busy_contractor())
    phone.wait_for_url("**/accounts/dashboard/")
    fits(phone, "dashboard")

    links = phone.locator("#site-menu")
    assert not links.is_visible()  # folded behind the button
    phone.get_by_role("button", name="Menu").click()
    assert links.is_visible()
    assert phone.get_by_role("link", name="Sales").is_visible()
    fits(phone, "dashboard-menu-open")
    phone.get_by_role("link", name="Sales").click()
    phone.wait_for_url("**/sales/")
    assert phone.locator(".sales-table tbody tr").count() == 2
    fits(phone, "sales")

    for name, path in [
        ("account", "/accounts/profile/"),
        ("email-change", "/accounts/email/change/"),
        ("password-change", "/accounts/password/change/"),
    ]:
        phone.goto(live_server.url + path)
        fits(phone, name)


@pytest.mark.django_db(transaction=True)
def test_the_verification_page_and_the_cart_notice_fit_a_phone(phone, live_server):
    log_in(phone, live_server, BuyerFactory(email_verified_at=None))
    phone.goto(f"{live_server.url}/accounts/email/verify/?next=/cart/")
    fits(phone, "email-verify")
    phone.goto(f"{live_server.url}/cart/")
    assert phone.locator(".shopping-notice").is_visible()
    fits(phone, "cart-unverified")


def test_wide_screens_show_the_links_without_a_menu_button(browser, live_server, transactional_db):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        assert page.locator("#site-menu").is_visible()
        assert not page.get_by_role("button", name="Menu").is_visible()
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_a_contractor_is_told_on_the_product_page_before_any_cart(phone, live_server):
    from tests.factories import ProductFactory

    seller = ContractorFactory(
        profile__stripe_id="acct_1PhoneSeller", profile__charges_enabled=True
    )
    product = ProductFactory(seller=seller, title="Oak cutting board")
    log_in(phone, live_server, ContractorFactory())
    phone.goto(live_server.url + product.get_absolute_url())

    assert phone.locator(".shopping-notice").is_visible()
    assert "contractor accounts sell" in phone.locator(".shopping-notice").inner_text()
    assert not phone.get_by_role("button", name="Add to cart").is_visible()
    fits(phone, "product-as-contractor")


@pytest.mark.django_db(transaction=True)
def test_resetting_a_forgotten_password_on_a_phone(phone, live_server, celery_eager):
    """The whole reset, as a person does it: ask, open the emailed link, choose a new
    password, log in with it (and land in the shop, as a buyer)."""
    import re

    from django.core import mail

    BuyerFactory(email="forgetful@example.com")
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.get_by_role("link", name="Forgot your password?").click()
    phone.fill("input[name=email]", "forgetful@example.com")
    phone.get_by_role("button", name="Email me a link").click()
    phone.wait_for_url("**/password/reset/sent/")

    (message,) = [m for m in mail.outbox if m.to == ["forgetful@example.com"]]
    (path,) = re.findall(r"https?://[^/\s]+(/accounts/password/reset/\S+)", message.body)
    phone.goto(live_server.url + path)
    fits(phone, "password-reset-new-password")
    phone.fill("input[name=new_password1]", "a-new-and-long-passphrase")
    phone.fill("input[name=new_password2]", "a-new-and-long-passphrase")
    phone.get_by_role("button", name="Save the new password").click()
    phone.wait_for_url("**/password/reset/done/")
    fits(phone, "password-reset-done")

    phone.goto(live_server.url + path)  # the link again: used up
    assert "This link no longer works" in phone.locator("main").inner_text()
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.fill("input[name=username]", "forgetful@example.com")
    phone.fill("input[name=password]", "a-new-and-long-passphrase")
    phone.click("main button[type=submit]")
    phone.wait_for_url(f"{live_server.url}/")


@pytest.mark.django_db(transaction=True)
def test_the_payment_methods_page_fits_a_phone(phone, live_server):
    """A buyer with no Stripe Customer yet: the page asks Stripe nothing (the page with
    saved cards is checked against the sandbox in tests/e2e/test_saved_cards.py)."""
    log_in(phone, live_server, BuyerFactory(email="a.buyer.with.a.long.address@example.com"))
    phone.goto(f"{live_server.url}/accounts/payment-methods/")
    assert phone.get_by_role("button", name="Add a card").is_visible()
    fits(phone, "payment-methods")
