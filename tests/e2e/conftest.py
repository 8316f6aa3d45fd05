"""Browser tests of the checkout: Debian's Chromium driven by Playwright through
Django's live server, paying with the sandbox's test Stripe.js, with the sandbox
forwarding signed webhooks to the live server and a real Celery worker processing
them (the integration tests' stack: tests/live_stack.py).

Without Chromium or Playwright the tests skip, unless REQUIRE_SERVICES is set (CI),
where that is a failure. Every step leaves a screenshot in test-artifacts/e2e/.
"""

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import UserProfile
from tests.factories import PASSWORD, BuyerFactory, ProductFactory
from tests.integration.flows import onboarded_contractor
from tests.phones import watched_page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"

CARD_FRAME = 'iframe[title="Secure card payment input frame"]'
CHALLENGE_FRAME = 'iframe[title="3D Secure authentication"]'
CHECKOUT_PAY_URL = re.compile(r"/checkout/[0-9a-f-]{36}/$")
CHECKOUT_DONE_URL = re.compile(r"/checkout/[0-9a-f-]{36}/done/")

VISA = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
INSUFFICIENT_FUNDS = "4000 0000 0000 9995"
THREE_D_SECURE = "4000 0025 0000 3155"


@pytest.fixture(scope="session", autouse=True)
def chromium():
    """Chromium and Playwright, checked before the sandbox and the worker start.

    Missing, the e2e tests skip; with REQUIRE_SERVICES set (CI) they fail instead.
    """
    reason = None
    if not os.path.exists(CHROMIUM):
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        reason = "Playwright is not installed (pip install playwright)"
    if reason and os.environ.get("REQUIRE_SERVICES"):
        pytest.fail(f"REQUIRE_SERVICES is set but {reason}")
    if reason:
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="package")
def browser(chromium, playwright_session):
    """One Chromium for the e2e tests, stopped when they are done (Playwright itself
    is the session's: tests/conftest.py)."""
    browser = playwright_session.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def shop(browser, live_stack, live_server, settings):
    """The live server's URL, with the checkout page loading the sandbox's Stripe.js."""
    settings.STRIPE_JS_URL = f"{live_stack.base_url}/v3/"
    return live_server.url


class Screenshots:
    """Numbered screenshots of one test's steps, in test-artifacts/e2e/<test>/."""

    def __init__(self, page, folder: Path):
        self.page = page
        self.folder = folder
        self.count = 0

    def __call__(self, step: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{step}.png"), full_page=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so fixtures can tell that it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request):
    """A fresh browser context per test; JavaScript errors and CSP violations on our
    pages fail the test, and a failed test leaves a screenshot of where the page was."""
    with watched_page(browser, {"width": 1000, "height": 800}) as page:
        yield page
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            folder = artifacts_folder(request.node)
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "failed.png"), full_page=True)


def artifacts_folder(node) -> Path:
    return ARTIFACTS / re.sub(r"[^\w.-]+", "_", node.name)


@pytest.fixture
def shot(page, request):
    """`shot("step")` saves a screenshot of the page as the test's next step.

    Each test empties only its own folder: under xdist a session-wide clean-up runs
    once per worker and deleted screenshots that another worker was writing.
    """
    folder = artifacts_folder(request.node)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Screenshots(page, folder)


# --- Steps of the journey --------------------------------------------------------


def contractor_with_product(sandbox, name: str, *, title: str, price_amount: int):
    """An onboarded contractor (the quick way: the sandbox finishes onboarding and the
    account.updated webhook enables charges) with one product for sale."""
    seller = onboarded_contractor(sandbox, f"{name.split()[0].lower()}@example.com")
    UserProfile.objects.filter(user=seller).update(display_name=name)
    return ProductFactory(seller=seller, title=title, price_amount=price_amount)


def new_buyer(name: str = "Bea Buyer"):
    buyer = BuyerFactory()
    UserProfile.objects.filter(user=buyer).update(display_name=name)
    return buyer


def log_in(page, shop: str, user) -> None:
    page.goto(shop + reverse("accounts:login"))
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def add_to_cart(page, shop: str, product) -> None:
    page.goto(shop + product.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_selector(".message.success")


def start_checkout(page, shop: str) -> None:
    page.goto(shop + reverse("shop:cart"))
    page.get_by_role("button", name="Checkout").click()
    page.wait_for_url(CHECKOUT_PAY_URL)
    card_ready(page)


def card_ready(page) -> None:
    """Wait until the card element's iframe has loaded its form."""
    page.frame_locator(CARD_FRAME).locator("input[name=cardnumber]").wait_for(state="attached")


def fill_card(page, number: str) -> None:
    """Type a card as a buyer does: key by key, so the element reports each change."""
    frame = page.frame_locator(CARD_FRAME)
    field = frame.locator("input[name=cardnumber]")
    field.fill("")
    field.press_sequentially(number)
    frame.locator("input[name=exp-date]").fill("12 / 34")
    frame.locator("input[name=cvc]").fill("123")
    frame.locator("input[name=postal]").fill("10001")


def answer_challenge(page, button: str) -> None:
    """Click "Complete authentication" or "Fail authentication" in the 3-D Secure
    challenge, and see the browser send the answer.

    On a busy machine headless Chromium now and then drops a click on a
    cross-origin challenge frame that has just replaced another at the same
    place: the button shows hovered, but no answer leaves (stale hit-testing of
    the new out-of-process frame, it seems). That is the browser, not the shop
    or the sandbox, so when no answer leaves, the buyer clicks again.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    target = page.frame_locator(CHALLENGE_FRAME).get_by_role("button", name=button)
    target.wait_for()
    for _ in range(3):
        try:
            with page.expect_request(_challenge_answer, timeout=3_000):
                target.click()
        except PlaywrightTimeoutError:
            if target.count():
                continue
            raise
        return
    pytest.fail(f"The 3-D Secure challenge never sent the answer to {button!r}")


def _challenge_answer(request) -> bool:
    return request.method == "POST" and "/3ds/" in request.url


def pay_button(page):
    return page.locator("#pay-button")


def payment_error(page):
    return page.locator("#payment-error")
