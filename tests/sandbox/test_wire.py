"""Form decoding and parameter validation against stripe.params (no server)."""

from __future__ import annotations

import pytest
import stripe.params as sp

from stripe_sandbox.errors import StripeError
from stripe_sandbox.money import format_amount, proportional_share, round_half_up_div
from stripe_sandbox.wire.forms import parse_urlencoded
from stripe_sandbox.wire.params import validate


def check(params_cls: type, body: bytes) -> dict:
    return validate(params_cls, parse_urlencoded(body))


def error_of(params_cls: type, body: bytes) -> dict:
    with pytest.raises(StripeError) as info:
        check(params_cls, body)
    assert info.value.status == 400
    return info.value.error


def test_nested_keys_arrays_and_coercion():
    params = check(
        sp.PaymentIntentCreateParams,
        b"amount=1099&currency=usd&confirm=true&transfer_data[destination]=acct_1"
        b"&metadata[order_id]=7&expand[]=latest_charge&expand[]=customer&off_session=true",
    )
    assert params == {
        "amount": 1099,
        "currency": "usd",
        "confirm": True,
        "transfer_data": {"destination": "acct_1"},
        "metadata": {"order_id": "7"},
        "expand": ["latest_charge", "customer"],
        "off_session": True,
    }


def test_indexed_arrays_of_hashes():
    params = check(
        sp.WebhookEndpointCreateParams,
        b"url=https://x.test&enabled_events[1]=charge.failed&enabled_events[0]=charge.succeeded",
    )
    assert params["enabled_events"] == ["charge.succeeded", "charge.failed"]
    error = error_of(sp.WebhookEndpointCreateParams, b"url=https://x.test&enabled_events[0]=nope")
    assert error["param"] == "enabled_events[0]"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        (b"currency=usd", "parameter_missing", "amount"),
        (b"amount=12x&currency=usd", "parameter_invalid_integer", "amount"),
        (b"amount=1&currency=usd&confirm=yes", "parameter_invalid_boolean", "confirm"),
        (b"amount=1&currency=usd&bogus=1", "parameter_unknown", "bogus"),
        (b"amount=1&currency=usd&transfer_data[foo]=1", "parameter_unknown", "transfer_data[foo]"),
        (
            b"amount=1&currency=usd&transfer_data[amount]=5",
            "parameter_missing",
            "transfer_data[destination]",
        ),
        (b"amount=&currency=usd", "parameter_invalid_empty", "amount"),
        (b"amount=99999999999999999999999&currency=usd", "parameter_invalid_integer", "amount"),
    ],
)
def test_validation_errors(body, code, param):
    error = error_of(sp.PaymentIntentCreateParams, body)
    assert error["code"] == code
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


def test_request_options_are_not_wire_parameters():
    error = error_of(sp.CustomerCreateParams, b"idempotency_key=abc")
    assert error["code"] == "parameter_unknown"


def test_malformed_keys_and_conflicts():
    assert "Invalid" in error_of(sp.CustomerCreateParams, b"metadata[a=1")["message"]
    assert (
        "Invalid hash" in error_of(sp.CustomerCreateParams, b"metadata=x&metadata[a]=1")["message"]
    )
    assert error_of(sp.CustomerCreateParams, b"%ff%fe=1")["type"] == "invalid_request_error"


def test_metadata_values_may_be_empty_to_unset():
    assert check(sp.CustomerUpdateParams, b"metadata[a]=") == {"metadata": {"a": ""}}
    assert check(sp.CustomerUpdateParams, b"metadata=") == {"metadata": ""}


def test_rounding_is_half_up_and_cumulative_shares_add_up():
    assert round_half_up_div(5, 2) == 3
    assert round_half_up_div(-5, 2) == -3
    assert round_half_up_div(4, 3) == 1
    # Three refunds of a third each take back exactly the whole fee.
    fee, amount, taken, refunded = 100, 1000, 0, 0
    for part in (333, 333, 334):
        refunded += part
        taken += proportional_share(fee, refunded, amount, taken)
    assert taken == fee
    assert format_amount(1050, "usd") == "$10.50"
    assert format_amount(500, "jpy") == "¥500"
