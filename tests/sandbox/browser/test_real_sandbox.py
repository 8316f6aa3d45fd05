"""End to end against the real sandbox: the stripe SDK creates the objects, the
test Stripe.js in Chromium pays them from a cross-origin shop page."""

import pytest

from stripe_sandbox.testing import run_sandbox

from .servers import serve_shop

pytestmark = pytest.mark.e2e

CARD_FRAME = 'iframe[title="Secure card payment input frame"]'
CHALLENGE_FRAME = 'iframe[title="3D Secure authentication"]'


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox() as handle:
        yield handle


@pytest.fixture(scope="module")
def stripe_client(sandbox):
    return sandbox.client()


@pytest.fixture(scope="module")
def shop(sandbox):
    with serve_shop(sandbox.base_url, sandbox.publishable_key) as base:
        yield base


def payment_intent(stripe_client):
    return stripe_client.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "usd",
            "capture_method": "manual",
        }
    )


def pay(page, shop, intent, number):
    page.goto(f"{shop}/checkout?secret={intent.client_secret}")
    page.wait_for_function("window.cardReady === true")
    frame = page.frame_locator(CARD_FRAME)
    frame.locator("input[name=cardnumber]").fill(number)
    frame.locator("input[name=exp-date]").fill("12 / 34")
    frame.locator("input[name=cvc]").fill("123")
    page.click("#pay")


def result_of(page):
    page.wait_for_function("window.result !== undefined")
    return page.evaluate("window.result")


def test_visa_is_authorised(page, shop, stripe_client):
    intent = payment_intent(stripe_client)
    pay(page, shop, intent, "4242 4242 4242 4242")
    assert result_of(page)["paymentIntent"]["status"] == "requires_capture"
    assert page.locator("#result").inner_text() == "requires_capture"
    intent = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 2500


def test_declined_card_shows_stripes_message(page, shop, stripe_client):
    intent = payment_intent(stripe_client)
    pay(page, shop, intent, "4000 0000 0000 0002")
    error = result_of(page)["error"]
    assert error["type"] == "card_error"
    assert error["code"] == "card_declined"
    assert error["payment_intent"]["id"] == intent.id
    assert page.locator("#result").inner_text() == "Your card was declined."


@pytest.mark.parametrize(
    ("button", "status"),
    [("Complete authentication", "requires_capture"), ("Fail authentication", None)],
)
def test_three_d_secure_card(page, shop, stripe_client, button, status):
    intent = payment_intent(stripe_client)
    pay(page, shop, intent, "4000 0025 0000 3155")
    page.frame_locator(CHALLENGE_FRAME).get_by_role("button", name=button).click()
    result = result_of(page)
    if status:
        assert result["paymentIntent"]["status"] == status
    else:
        assert result["error"]["code"] == "payment_intent_authentication_failure"
        assert page.locator("#result").inner_text() == result["error"]["message"]
    expected = status or "requires_payment_method"
    assert stripe_client.v1.payment_intents.retrieve(intent.id).status == expected


def test_hosted_onboarding_enables_the_account(page, shop, stripe_client):
    account = stripe_client.v1.accounts.create(
        params={"type": "express", "country": "US", "email": "maker@example.com"}
    )
    assert not account.charges_enabled
    link = stripe_client.v1.account_links.create(
        params={
            "account": account.id,
            "refresh_url": f"{shop}/refresh",
            "return_url": f"{shop}/done",
            "type": "account_onboarding",
        }
    )
    page.goto(link.url)
    assert page.locator("#account-id").inner_text() == account.id
    page.get_by_role("button", name="Use test data").click()
    page.get_by_role("button", name="Agree and submit").click()
    page.wait_for_url(f"{shop}/done")
    account = stripe_client.v1.accounts.retrieve(account.id)
    assert account.charges_enabled
    assert account.details_submitted

    page.goto(link.url)  # a link works once: now it sends the user to refresh_url
    page.wait_for_url(f"{shop}/refresh")


def test_card_is_saved_with_a_setup_intent(page, shop, stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": "buyer@example.com"})
    intent = stripe_client.v1.setup_intents.create(
        params={"customer": customer.id, "usage": "off_session"}
    )
    page.goto(f"{shop}/checkout")
    page.wait_for_function("window.cardReady === true")
    frame = page.frame_locator(CARD_FRAME)
    frame.locator("input[name=cardnumber]").fill("4242 4242 4242 4242")
    frame.locator("input[name=exp-date]").fill("12 / 34")
    frame.locator("input[name=cvc]").fill("123")
    page.evaluate(
        "s => track(stripe.confirmCardSetup(s, {payment_method: {card}}))", intent.client_secret
    )
    setup = result_of(page)["setupIntent"]
    assert setup["status"] == "succeeded"
    methods = stripe_client.v1.customers.payment_methods.list(customer.id)
    assert [pm.id for pm in methods.data] == [setup["payment_method"]]


@pytest.mark.parametrize(
    ("width", "number_alone"), [(375, True), (900, False)], ids=["phone", "desktop"]
)
def test_card_element_puts_the_number_on_its_own_row_on_a_phone(
    page, shop, stripe_client, width, number_alone
):
    intent = payment_intent(stripe_client)
    page.set_viewport_size({"width": width, "height": 700})
    page.goto(f"{shop}/checkout?secret={intent.client_secret}")
    page.wait_for_function("window.cardReady === true")
    frame = page.frame_locator(CARD_FRAME)
    boxes = {
        name: frame.locator(f"input[name={name}]").bounding_box()
        for name in ("cardnumber", "exp-date", "cvc")
    }
    number, expiry, cvc = boxes["cardnumber"], boxes["exp-date"], boxes["cvc"]

    # On a phone: the number spans the row and the rest sits below it, each wide
    # enough for "MM / YY"; the frame grows to show both rows.
    assert (expiry["y"] >= number["y"] + number["height"]) is number_alone
    if number_alone:
        assert min(expiry["width"], cvc["width"]) >= 80
        frame_box = page.locator(CARD_FRAME).bounding_box()
        assert frame_box["y"] + frame_box["height"] >= cvc["y"] + cvc["height"]
