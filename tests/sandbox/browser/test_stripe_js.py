"""The test Stripe.js in Chromium, against the fake core (see fake_core.py).

The shop page is served from another port, so everything crosses origins the
way it does in the real shop: CORS for the API, postMessage for the frames.
"""

import pytest

from .fake_core import FakeSandbox, create_fake_app
from .servers import serve_asgi, serve_shop

pytestmark = pytest.mark.e2e

CARD_FRAME = 'iframe[title="Secure card payment input frame"]'
CHALLENGE_FRAME = 'iframe[title="3D Secure authentication"]'
CONFIRM = """secret => track(stripe.confirmCardPayment(secret, {
    payment_method: {card: card, billing_details: {name: 'Jenny Rosen'}},
    setup_future_usage: 'off_session',
}))"""


@pytest.fixture(scope="module")
def sandbox():
    return FakeSandbox()


@pytest.fixture(scope="module")
def api_base(sandbox):
    with serve_asgi(create_fake_app(sandbox)) as base:
        yield base


@pytest.fixture(scope="module")
def shop(api_base):
    with serve_shop(api_base) as base:
        yield base


def open_checkout(page, shop, query=""):
    page.goto(f"{shop}/checkout{query}")
    page.wait_for_function("window.cardReady === true")
    return page.frame_locator(CARD_FRAME)


def fill_card(frame, number, exp="12 / 34", cvc="123"):
    frame.locator("input[name=cardnumber]").fill(number)
    frame.locator("input[name=exp-date]").fill(exp)
    frame.locator("input[name=cvc]").fill(cvc)


def result_of(page):
    page.wait_for_function("window.result !== undefined")
    return page.evaluate("window.result")


def test_card_payment_is_authorised(page, shop, sandbox, api_base):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop, f"?secret={intent['client_secret']}")
    fill_card(frame, "4242 4242 4242 4242")
    page.click("#pay")
    result = result_of(page)
    assert result["paymentIntent"]["status"] == "requires_capture"
    assert page.locator("#result").inner_text() == "requires_capture"

    pm_call, confirm_call = sandbox.requests[-2:]
    # The card number went to the API from the sandbox's own frame, not the shop page.
    assert pm_call["path"] == "/v1/payment_methods"
    assert pm_call["origin"] == api_base
    assert pm_call["params"]["card[number]"] == "4242424242424242"
    assert pm_call["params"]["card[exp_month]"] == "12"
    assert pm_call["params"]["card[exp_year]"] == "2034"
    assert pm_call["params"]["billing_details[name]"] == "Jenny Rosen"
    assert pm_call["params"]["key"] == "pk_test_sandbox"
    assert confirm_call["origin"] == shop
    assert set(confirm_call["params"]) == {
        "key",
        "client_secret",
        "payment_method",
        "use_stripe_sdk",
    }
    assert confirm_call["params"]["payment_method"].startswith("pm_")
    assert page.locator("input").count() == 0  # no card field on the shop page


def test_confirm_passes_setup_future_usage(page, shop, sandbox):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop)
    fill_card(frame, "4242424242424242")
    page.evaluate(CONFIRM, intent["client_secret"])
    assert result_of(page)["paymentIntent"]["status"] == "requires_capture"
    assert sandbox.requests[-1]["params"]["setup_future_usage"] == "off_session"


def test_declined_card_resolves_with_stripes_error(page, shop, sandbox):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop, f"?secret={intent['client_secret']}")
    fill_card(frame, "4000 0000 0000 0002")
    page.click("#pay")
    error = result_of(page)["error"]
    assert error["type"] == "card_error"
    assert error["code"] == "card_declined"
    assert error["decline_code"] == "generic_decline"
    assert error["payment_intent"]["id"] == intent["id"]
    assert page.locator("#result").inner_text() == "Your card was declined."


def test_change_events_report_validation_like_stripe(page, shop):
    frame = open_checkout(page, shop)
    frame.locator("input[name=cardnumber]").fill("4242 4242 4242 4241")
    page.wait_for_function("changes.length > 0")
    last = page.evaluate("changes[changes.length - 1]")
    assert last["elementType"] == "card"
    assert last["error"] == {
        "type": "validation_error",
        "code": "invalid_number",
        "message": "Your card number is invalid.",
    }
    assert last["complete"] is False
    assert last["empty"] is False
    assert page.locator("#card-errors").inner_text() == "Your card number is invalid."
    assert frame.locator("input[name=cardnumber]").get_attribute("aria-invalid") == "true"
    assert "StripeElement--invalid" in page.locator("#card-element").get_attribute("class")

    fill_card(frame, "4242424242424242", exp="01 / 20")
    page.wait_for_function("changes[changes.length - 1].error?.code === 'invalid_expiry_year_past'")
    assert (
        page.locator("#card-errors").inner_text() == "Your card's expiration year is in the past."
    )

    frame.locator("input[name=exp-date]").fill("1234")
    page.wait_for_function("changes[changes.length - 1].complete === true")
    last = page.evaluate("changes[changes.length - 1]")
    assert "error" not in last
    assert last["brand"] == "visa"
    assert frame.locator("input[name=exp-date]").input_value() == "12 / 34"
    assert frame.locator("input[name=cardnumber]").input_value() == "4242 4242 4242 4242"
    assert page.locator("#card-errors").inner_text() == ""


def test_incomplete_card_is_a_validation_error_without_any_api_call(page, shop, sandbox):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop)
    frame.locator("input[name=cardnumber]").fill("4242 4242 4242 4242")
    calls = len(sandbox.requests)
    page.evaluate(CONFIRM, intent["client_secret"])
    assert result_of(page)["error"] == {
        "type": "validation_error",
        "code": "incomplete_expiry",
        "message": "Your card's expiration date is incomplete.",
    }
    assert len(sandbox.requests) == calls


@pytest.mark.parametrize(
    ("button", "expected"),
    [("Complete authentication", "requires_capture"), ("Fail authentication", None)],
)
def test_three_d_secure_challenge_in_a_modal(page, shop, sandbox, button, expected):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop, f"?secret={intent['client_secret']}")
    fill_card(frame, "4000 0025 0000 3155")
    page.click("#pay")
    dialog = page.get_by_role("dialog", name="3D Secure authentication")
    dialog.wait_for()
    page.frame_locator(CHALLENGE_FRAME).get_by_role("button", name=button).click()
    result = result_of(page)
    assert dialog.count() == 0  # the modal is gone once Stripe.js has heard back
    if expected:
        assert result["paymentIntent"]["status"] == expected
    else:
        assert result["error"]["code"] == "payment_intent_authentication_failure"
        assert result["error"]["payment_intent"]["status"] == "requires_payment_method"


def test_handle_next_action_after_confirming_without_actions(page, shop, sandbox):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop)
    fill_card(frame, "4000002500003155")
    page.evaluate(
        """s => track(stripe.confirmCardPayment(
            s, {payment_method: {card}}, {handleActions: false}))""",
        intent["client_secret"],
    )
    assert result_of(page)["paymentIntent"]["status"] == "requires_action"
    page.evaluate("s => track(stripe.handleNextAction({clientSecret: s}))", intent["client_secret"])
    page.frame_locator(CHALLENGE_FRAME).get_by_role(
        "button", name="Complete authentication"
    ).click()
    assert result_of(page)["paymentIntent"]["status"] == "requires_capture"


def test_handle_next_action_on_an_intent_without_action(page, shop, sandbox):
    intent = sandbox.create_intent()
    open_checkout(page, shop)
    page.evaluate("s => track(stripe.handleNextAction({clientSecret: s}))", intent["client_secret"])
    assert result_of(page)["error"]["code"] == "unexpected_state"


def test_network_failure_is_an_api_connection_error(page, shop, sandbox):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop)
    fill_card(frame, "4242424242424242")
    page.route("**/v1/**", lambda route: route.abort())
    page.evaluate(CONFIRM, intent["client_secret"])
    assert result_of(page)["error"]["type"] == "api_connection_error"


def test_confirm_with_an_existing_payment_method_id(page, shop, sandbox):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop)
    fill_card(frame, "4242424242424242")
    page.evaluate("track(stripe.createPaymentMethod({type: 'card', card}))")
    pm = result_of(page)["paymentMethod"]
    assert pm["card"]["last4"] == "4242"
    page.evaluate(
        "([s, pm]) => track(stripe.confirmCardPayment(s, {payment_method: pm}))",
        [intent["client_secret"], pm["id"]],
    )
    assert result_of(page)["paymentIntent"]["payment_method"] == pm["id"]


def test_confirm_card_setup(page, shop, sandbox):
    intent = sandbox.create_intent("setup")
    frame = open_checkout(page, shop)
    fill_card(frame, "4242424242424242")
    page.evaluate(
        "s => track(stripe.confirmCardSetup(s, {payment_method: {card}}))", intent["client_secret"]
    )
    assert result_of(page)["setupIntent"]["status"] == "succeeded"


def test_confirm_payment_with_the_payment_element_redirects(page, shop, sandbox):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop, f"?element=payment&secret={intent['client_secret']}")
    fill_card(frame, "4242424242424242")
    page.evaluate(
        "url => { stripe.confirmPayment({elements, confirmParams: {return_url: url}}) }",
        f"{shop}/done?order=7",
    )
    page.wait_for_url(f"{shop}/done?**")
    assert page.url == (
        f"{shop}/done?order=7&payment_intent={intent['id']}"
        f"&payment_intent_client_secret={intent['id']}_secret_abc&redirect_status=succeeded"
    )


def test_confirm_payment_if_required_resolves(page, shop, sandbox):
    intent = sandbox.create_intent()
    frame = open_checkout(page, shop, "?element=payment")
    fill_card(frame, "4000000000000002")
    page.evaluate(
        """s => track(stripe.confirmPayment({elements, clientSecret: s,
            confirmParams: {return_url: location.href}, redirect: 'if_required'}))""",
        intent["client_secret"],
    )
    assert result_of(page)["error"]["message"] == "Your card was declined."


def test_payment_element_shows_labels_and_its_own_errors(page, shop):
    frame = open_checkout(page, shop, "?element=payment")
    frame.locator("input[name=cardnumber]").fill("4242 4242 4242 4241")
    assert frame.get_by_role("alert").inner_text() == "Your card number is invalid."
    assert frame.get_by_label("Card number").is_visible()


def test_enter_in_the_card_form_submits_the_shops_form(page, shop):
    frame = open_checkout(page, shop)
    frame.locator("input[name=cvc]").press("Enter")
    page.wait_for_function("submits === 1")


def test_misuse_throws_integration_errors(page, shop):
    open_checkout(page, shop)
    assert "secret key" in page.evaluate(
        "() => { try { Stripe('sk_test_x') } catch (e) { return e.message } }"
    )
    page.evaluate("track(stripe.confirmCardPayment('not-a-secret', {}))")
    assert result_of(page)["thrown"].startswith("IntegrationError")


def test_hosted_onboarding_with_test_data(page, shop, sandbox, api_base):
    link = sandbox.create_link(shop=shop)
    page.goto(f"{api_base}/connect/onboarding/{link['id']}")
    assert page.locator("#account-id").inner_text() == "acct_1TestAccount"
    page.get_by_role("button", name="Agree and submit").click()
    assert page.url.startswith(api_base)  # the browser requires the fields first
    page.get_by_role("button", name="Use test data").click()
    assert page.get_by_label("First name").input_value() == "Jenny"
    page.get_by_role("button", name="Agree and submit").click()
    page.wait_for_url(f"{shop}/done")
    assert sandbox.links[link["id"]]["used"] is True


def test_elements_submit_validates_the_form(page, shop):
    frame = open_checkout(page, shop, "?element=payment")
    page.evaluate("track(elements.submit())")
    assert result_of(page)["error"]["code"] == "incomplete_number"
    fill_card(frame, "4242424242424242")
    page.evaluate("track(elements.submit())")
    assert result_of(page) == {}


def test_update_disables_and_clear_empties_the_form(page, shop):
    frame = open_checkout(page, shop)
    fill_card(frame, "4242424242424242")
    page.evaluate("card.update({disabled: true})")
    frame.locator("input[name=cardnumber]:disabled").wait_for()
    number = frame.locator("input[name=cardnumber]")
    page.evaluate("card.update({disabled: false}); card.clear()")
    page.wait_for_function("changes[changes.length - 1].empty === true")
    assert number.input_value() == ""
    assert number.is_enabled()
