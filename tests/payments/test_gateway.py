"""The Stripe boundary: exact parameters out, our own exceptions back."""

from unittest import mock

import pytest
import stripe

from payments import gateway


class FakeStripeObject(dict):
    def to_dict(self):
        return dict(self)


@pytest.fixture
def fake_client(monkeypatch):
    client = mock.MagicMock()
    monkeypatch.setattr(gateway, "client", lambda: client)
    return client


def test_payment_intent_create_is_a_manual_destination_charge(fake_client):
    fake_client.v1.payment_intents.create.return_value = FakeStripeObject(id="pi_1")

    result = gateway.payment_intent_create(
        amount=5000,
        currency="usd",
        customer="cus_1",
        destination="acct_1",
        application_fee_amount=530,
        order_id=7,
        order_public_id="abc",
        idempotency_key="payment-3-intent",
    )

    assert result == {"id": "pi_1"}
    fake_client.v1.payment_intents.create.assert_called_once_with(
        {
            "amount": 5000,
            "currency": "usd",
            "customer": "cus_1",
            "capture_method": "manual",
            "allowed_payment_method_types": ["card"],
            "application_fee_amount": 530,
            "transfer_data": {"destination": "acct_1"},
            "metadata": {"order_id": "7", "order_public_id": "abc"},
            "description": "Order abc",
        },
        {"idempotency_key": "payment-3-intent"},
    )


def test_every_write_needs_an_idempotency_key(fake_client):
    with pytest.raises(ValueError, match="idempotency key"):
        gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="")
    fake_client.v1.payment_intents.capture.assert_not_called()


def test_connect_reads_pass_the_account(fake_client):
    fake_client.v1.balance.retrieve.return_value = FakeStripeObject(object="balance")
    gateway.balance_retrieve(account="acct_9")
    fake_client.v1.balance.retrieve.assert_called_once_with(None, {"stripe_account": "acct_9"})


def test_refund_create_parameters(fake_client):
    fake_client.v1.refunds.create.return_value = FakeStripeObject(id="re_1")
    gateway.refund_create(
        payment_intent="pi_1",
        amount=100,
        reason="requested_by_customer",
        reverse_transfer=True,
        refund_application_fee=False,
        refund_id=4,
        idempotency_key="refund-4",
    )
    fake_client.v1.refunds.create.assert_called_once_with(
        {
            "payment_intent": "pi_1",
            "amount": 100,
            "reverse_transfer": True,
            "refund_application_fee": False,
            "metadata": {"refund_id": "4"},
            "reason": "requested_by_customer",
        },
        {"idempotency_key": "refund-4"},
    )


def card_error(code, decline_code=None):
    body = {"error": {"type": "card_error", "code": code, "message": "Stripe's words"}}
    if decline_code:
        body["error"]["decline_code"] = decline_code
    return stripe.CardError("Stripe's words", None, code, http_status=402, json_body=body)


@pytest.mark.parametrize(
    ("code", "decline_code", "message"),
    [
        ("card_declined", "generic_decline", "Your card was declined."),
        ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
        ("expired_card", None, "This card has expired."),
        ("incorrect_cvc", None, "The security code is incorrect."),
    ],
)
def test_card_errors_become_card_declined_with_our_message(
    fake_client, code, decline_code, message
):
    fake_client.v1.payment_intents.capture.side_effect = card_error(code, decline_code)
    with pytest.raises(gateway.CardDeclined) as caught:
        gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="k")
    assert caught.value.code == code
    assert caught.value.user_message == message


@pytest.mark.parametrize(
    "error",
    [
        stripe.APIConnectionError("no route"),
        stripe.RateLimitError("slow down", http_status=429),
        stripe.APIError("boom", http_status=500),
    ],
)
def test_outages_become_gateway_unavailable(fake_client, error):
    fake_client.v1.payment_intents.retrieve.side_effect = error
    with pytest.raises(gateway.GatewayUnavailable) as caught:
        gateway.payment_intent_retrieve(payment_intent="pi_1")
    assert caught.value.user_message == "Payment service is unreachable, please retry."


def test_invalid_requests_become_gateway_rejected(fake_client):
    body = {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "intent",
            "message": "No such payment_intent: 'pi_x'",
        }
    }
    fake_client.v1.payment_intents.retrieve.side_effect = stripe.InvalidRequestError(
        "No such payment_intent: 'pi_x'",
        "intent",
        "resource_missing",
        http_status=404,
        json_body=body,
    )
    with pytest.raises(gateway.GatewayRejected) as caught:
        gateway.payment_intent_retrieve(payment_intent="pi_x")
    assert caught.value.code == "resource_missing"
    assert caught.value.http_status == 404
    assert "No such payment_intent" in str(caught.value)


def test_client_points_at_the_sandbox_when_configured(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    gateway.reset_client()
    try:
        client = gateway.client()
        assert client._requestor.base_addresses["api"] == "http://127.0.0.1:9"
        assert client._requestor._options.stripe_version == settings.STRIPE_API_VERSION
    finally:
        gateway.reset_client()
