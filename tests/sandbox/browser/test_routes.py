"""The browser routes against a fake sandbox state (no core, no browser)."""

import time
import warnings

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from .fake_core import FakeSandbox, create_fake_app

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 at import; with httpx the TestClient still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


@pytest.fixture
def sandbox() -> FakeSandbox:
    return FakeSandbox()


@pytest.fixture
def client(sandbox) -> TestClient:
    return TestClient(create_fake_app(sandbox), follow_redirects=False)


def awaiting_authentication(sandbox: FakeSandbox, kind: str = "payment") -> dict:
    intent = sandbox.create_intent(kind)
    intent["status"] = "requires_action"
    return intent


@pytest.mark.parametrize("path", ["/v3/", "/v3"])
def test_stripe_js_is_served_as_javascript(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "window.Stripe = Stripe" in response.text
    assert response.headers["cache-control"] == "no-cache"


def test_card_element_page_has_named_inputs_and_assets(client):
    response = client.get("/elements/card?key=pk_test_x&origin=http://shop.test")
    assert response.status_code == 200
    html = response.text
    for name in ("cardnumber", "exp-date", "cvc", "postal"):
        assert f'name="{name}"' in html
    assert 'placeholder="1234 1234 1234 1234"' in html
    assert '<label for="cardnumber">' in html
    for asset in ("card.js", "card.css"):
        assert client.get(f"/elements/assets/{asset}").status_code == 200


def test_challenge_page_offers_both_outcomes(client, sandbox):
    intent = awaiting_authentication(sandbox)
    response = client.get(f"/3ds/{intent['id']}?origin=http://shop.test:8000")
    assert response.status_code == 200
    assert "Complete authentication" in response.text
    assert "Fail authentication" in response.text
    assert 'name="origin" value="http://shop.test:8000"' in response.text
    assert 'href="http://testserver/elements/assets/sandbox.css"' in response.text


def test_challenge_page_escapes_its_parameters(client, sandbox):
    intent = awaiting_authentication(sandbox)
    response = client.get(f"/3ds/{intent['id']}", params={"origin": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;" in response.text


def test_challenge_page_rejects_ids_that_are_not_intents(client):
    assert client.get("/3ds/cus_123").status_code == 404
    assert client.post("/3ds/cus_123", data={"outcome": "complete"}).status_code == 404


@pytest.mark.parametrize(("outcome", "succeed"), [("complete", True), ("fail", False)])
def test_finishing_the_challenge_notifies_the_opener(client, sandbox, outcome, succeed):
    intent = awaiting_authentication(sandbox)
    response = client.post(
        f"/3ds/{intent['id']}", data={"outcome": outcome, "origin": "http://shop.test:8000"}
    )
    assert response.status_code == 200
    assert sandbox.finished == [(intent["id"], succeed)]
    assert f'data-intent="{intent["id"]}"' in response.text
    assert 'data-origin="http://shop.test:8000"' in response.text
    assert f'data-outcome="{outcome}"' in response.text
    assert "challenge-done.js" in response.text


def test_setup_intents_can_be_authenticated_too(client, sandbox):
    intent = awaiting_authentication(sandbox, "setup")
    response = client.post(f"/3ds/{intent['id']}", data={"outcome": "complete"})
    assert response.status_code == 200
    assert sandbox.intents[intent["id"]]["status"] == "succeeded"


def test_origin_that_is_not_an_origin_is_dropped(client, sandbox):
    intent = awaiting_authentication(sandbox)
    response = client.post(
        f"/3ds/{intent['id']}", data={"outcome": "complete", "origin": "javascript:alert(1)"}
    )
    assert 'data-origin=""' in response.text


def test_origin_and_return_url_can_come_from_the_query_string(client, sandbox):
    intent = awaiting_authentication(sandbox)
    response = client.post(
        f"/3ds/{intent['id']}?return_url=http://shop.test/back",
        data={"outcome": "complete"},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("http://shop.test/back?payment_intent=")


def test_return_url_gets_stripes_redirect_parameters(client, sandbox):
    intent = awaiting_authentication(sandbox)
    response = client.post(
        f"/3ds/{intent['id']}",
        data={"outcome": "complete", "return_url": "http://shop.test/checkout/return?order=7"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == (
        "http://shop.test/checkout/return?order=7"
        f"&payment_intent={intent['id']}"
        f"&payment_intent_client_secret={intent['id']}_secret_abc"
        "&redirect_status=succeeded"
    )


def test_failed_challenge_redirects_with_failed_status(client, sandbox):
    intent = awaiting_authentication(sandbox)
    response = client.post(
        f"/3ds/{intent['id']}", data={"outcome": "fail", "return_url": "https://shop.test/r"}
    )
    assert response.headers["location"].endswith("&redirect_status=failed")


def test_return_url_must_be_http(client, sandbox):
    intent = awaiting_authentication(sandbox)
    response = client.post(
        f"/3ds/{intent['id']}", data={"outcome": "complete", "return_url": "javascript:alert(1)"}
    )
    assert response.status_code == 200


def test_challenge_for_an_intent_not_awaiting_it_still_notifies(client, sandbox):
    intent = sandbox.create_intent()  # requires_payment_method
    response = client.post(f"/3ds/{intent['id']}", data={"outcome": "complete"})
    assert response.status_code == 400
    assert "This PaymentIntent does not require authentication." in response.text
    assert 'data-outcome="error"' in response.text


def test_a_second_click_does_not_finish_twice(client, sandbox):
    intent = awaiting_authentication(sandbox)
    assert client.post(f"/3ds/{intent['id']}", data={"outcome": "complete"}).status_code == 200
    assert client.post(f"/3ds/{intent['id']}", data={"outcome": "fail"}).status_code == 400
    assert sandbox.finished == [(intent["id"], True)]


def test_onboarding_page_shows_account_and_form(client, sandbox):
    link = sandbox.create_link()
    response = client.get(f"/connect/onboarding/{link['id']}")
    assert response.status_code == 200
    html = response.text
    assert "acct_1TestAccount" in html
    for field in ("first_name", "last_name", "dob"):
        assert f'<label for="{field}">' in html
    assert "Use test data" in html
    assert "Agree and submit" in html


def test_onboarding_submit_redirects_to_return_url(client, sandbox):
    link = sandbox.create_link()
    response = client.post(
        f"/connect/onboarding/{link['id']}",
        data={"first_name": "Jenny", "last_name": "Rosen", "dob": "1901-01-01"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "http://shop.test/done"
    assert sandbox.links[link["id"]]["used"] is True


def test_onboarding_submit_accepts_a_bare_post(client, sandbox):
    link = sandbox.create_link()
    response = client.post(f"/connect/onboarding/{link['id']}")
    assert response.headers["location"] == "http://shop.test/done"


def test_onboarding_submit_twice_goes_to_refresh_url(client, sandbox):
    link = sandbox.create_link()
    client.post(f"/connect/onboarding/{link['id']}")
    response = client.post(f"/connect/onboarding/{link['id']}")
    assert response.status_code == 303
    assert response.headers["location"] == "http://shop.test/onboarding/refresh"


@pytest.mark.parametrize("link_kwargs", [{"used": True}, {"expires_at": 1_000_000}])
def test_visiting_a_used_or_expired_link_goes_to_refresh_url(client, sandbox, link_kwargs):
    link = sandbox.create_link(**link_kwargs)
    response = client.get(f"/connect/onboarding/{link['id']}")
    assert response.status_code == 303
    assert response.headers["location"] == "http://shop.test/onboarding/refresh"


def test_unknown_onboarding_link_is_404(client):
    assert client.get("/connect/onboarding/link_nope").status_code == 404
    assert client.post("/connect/onboarding/link_nope").status_code == 404


def test_a_link_expired_by_the_sandbox_clock_goes_to_refresh_url(client, sandbox):
    link = sandbox.create_link(expires_at=time.time() + 300)
    assert client.get(f"/connect/onboarding/{link['id']}").status_code == 200
    sandbox.clock.offset = 301
    response = client.get(f"/connect/onboarding/{link['id']}")
    assert response.headers["location"] == "http://shop.test/onboarding/refresh"
