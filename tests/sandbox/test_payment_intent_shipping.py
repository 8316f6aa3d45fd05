"""The sandbox checks a PaymentIntent's `shipping` as Stripe does and echoes it back."""

from __future__ import annotations

import pytest
import stripe

pytestmark = pytest.mark.sandbox

ADDRESS = {"line1": "350 Fifth Avenue", "city": "New York", "postal_code": "10118"}


def create(client: stripe.StripeClient, **params) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "usd", "capture_method": "manual", **params}
    )


@pytest.mark.parametrize(
    ("shipping", "param"),
    [
        ({"address": {**ADDRESS, "country": "US"}}, "shipping[name]"),
        ({"name": "  ", "address": ADDRESS}, "shipping[name]"),
        ({"name": "Ada"}, "shipping[address]"),
        ({"name": "Ada", "address": {"city": "New York"}}, "shipping[address][line1]"),
        ({"name": "Ada", "address": {**ADDRESS, "line1": "  "}}, "shipping[address][line1]"),
    ],
)
def test_a_shipping_without_name_or_first_line_is_refused(client, shipping, param):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        create(client, shipping=shipping)
    assert refused.value.param == param
    assert refused.value.code == "parameter_missing"
    assert str(refused.value.user_message) == f"Missing required param: {param}."
    assert client.v1.payment_intents.list().data == []  # nothing was made


def test_an_empty_name_is_an_unset_that_shipping_cannot_take(client):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        create(client, shipping={"name": "", "address": ADDRESS})
    assert (refused.value.param, refused.value.code) == (
        "shipping[name]",
        "parameter_invalid_empty",
    )


def test_a_country_must_be_a_two_letter_code(client):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        create(client, shipping={"name": "Ada", "address": {**ADDRESS, "country": "USA"}})
    assert refused.value.param == "shipping[address][country]"
    assert "Country 'USA' is unknown" in str(refused.value.user_message)


def test_shipping_is_echoed_in_stripes_shape_updated_and_cleared(client):
    intent = create(client, shipping={"name": "Ada", "address": {**ADDRESS, "country": "US"}})

    assert intent.shipping.to_dict() == {
        "address": {**ADDRESS, "country": "US", "line2": None, "state": None},
        "carrier": None,
        "name": "Ada",
        "phone": None,
        "tracking_number": None,
    }
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.update(
            intent.id, {"shipping": {"name": "Ada", "address": {"city": "Albany"}}}
        )
    assert refused.value.param == "shipping[address][line1]"

    moved = client.v1.payment_intents.update(
        intent.id, {"shipping": {"name": "Ada L.", "address": {"line1": "1 Main St"}}}
    )
    assert (moved.shipping.name, moved.shipping.address.line1) == ("Ada L.", "1 Main St")
    cleared = client.v1.payment_intents.update(intent.id, {"shipping": ""})
    assert cleared.shipping is None


def test_confirm_checks_shipping_too(client):
    intent = create(client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(
            intent.id,
            {"payment_method": "pm_card_visa", "shipping": {"name": " ", "address": ADDRESS}},
        )
    assert refused.value.param == "shipping[name]"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
