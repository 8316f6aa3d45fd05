"""SetupIntents, saved cards and a customer's default card, as Stripe has them: create,
retrieve, confirm (3-D Secure included), cancel; attach, detach, list by customer;
`invoice_settings.default_payment_method`; expiry dates and expired cards."""

from __future__ import annotations

import datetime

import pytest
import stripe

YEAR = 365 * 24 * 3600


def new_card(client, number: str = "4242424242424242", exp_year: int | None = None):
    year = exp_year or datetime.date.today().year + 2
    return client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": year, "cvc": "123"},
        }
    )


@pytest.fixture
def customer(client):
    return client.v1.customers.create(params={"email": "saver@x.test"})


def saved(client, customer, number: str = "4242424242424242") -> str:
    """A card saved on the customer through a SetupIntent; its PaymentMethod id."""
    setup = client.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method": new_card(client, number).id}
    )
    done = client.v1.setup_intents.confirm(setup.id)
    assert done.status == "succeeded"
    return done.payment_method


def test_create_retrieve_confirm_saves_the_card_on_the_customer(client, customer):
    setup = client.v1.setup_intents.create(
        params={"customer": customer.id, "usage": "on_session", "metadata": {"attempt": "a1"}}
    )
    assert setup.status == "requires_payment_method"
    assert setup.client_secret.startswith(f"{setup.id}_secret_")
    assert client.v1.setup_intents.retrieve(setup.id).metadata.to_dict() == {"attempt": "a1"}
    card = new_card(client, "5555555555554444")

    done = client.v1.setup_intents.confirm(setup.id, params={"payment_method": card.id})

    assert done.status == "succeeded"
    listed = client.v1.customers.payment_methods.list(customer.id, params={"type": "card"})
    assert [(p.id, p.card.brand, p.card.last4) for p in listed.data] == [
        (card.id, "mastercard", "4444")
    ]
    assert (listed.data[0].card.exp_month, listed.data[0].card.exp_year) == (
        12,
        datetime.date.today().year + 2,
    )
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.setup_intents.confirm(setup.id, params={"payment_method": card.id})
    assert again.value.code == "setup_intent_unexpected_state"


def test_a_3ds_card_needs_the_challenge_before_it_is_saved(sandbox, client, customer):
    setup = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "payment_method": new_card(client, "4000002500003155").id,
            "confirm": True,
        }
    )
    assert setup.status == "requires_action"
    assert setup.next_action.type == "use_stripe_sdk"
    assert client.v1.customers.payment_methods.list(customer.id).data == []

    failed = sandbox.sandbox.three_d_secure_finish(setup.id, False)
    assert failed["status"] == "requires_payment_method"
    assert failed["last_setup_error"]["code"] == "setup_intent_authentication_failure"

    retried = client.v1.setup_intents.confirm(
        setup.id, params={"payment_method": new_card(client, "4000002500003155").id}
    )
    assert retried.status == "requires_action"
    done = sandbox.sandbox.three_d_secure_finish(setup.id, True)
    assert done["status"] == "succeeded"
    listed = client.v1.customers.payment_methods.list(customer.id).data
    assert [p.id for p in listed] == [done["payment_method"]]


def test_cancel(client, customer):
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    canceled = client.v1.setup_intents.cancel(
        setup.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "requested_by_customer")
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_visa"})
    assert error.value.code == "setup_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.setup_intents.cancel(setup.id)


def test_the_expired_test_card_is_declined_when_saved(client, customer):
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    with pytest.raises(stripe.CardError) as error:
        client.v1.setup_intents.confirm(
            setup.id, params={"payment_method": new_card(client, "4000000000000069").id}
        )
    assert (error.value.code, error.value.error.decline_code) == ("expired_card", "expired_card")
    after = client.v1.setup_intents.retrieve(setup.id)
    assert after.status == "requires_payment_method"
    assert after.last_setup_error.code == "expired_card"
    assert client.v1.customers.payment_methods.list(customer.id).data == []


def test_an_expiry_date_in_the_past_or_a_bad_month_is_refused(client):
    with pytest.raises(stripe.CardError) as year:
        new_card(client, exp_year=datetime.date.today().year - 1)
    assert (year.value.code, year.value.param) == ("invalid_expiry_year", "card[exp_year]")
    with pytest.raises(stripe.CardError) as month:
        client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 13, "exp_year": 2040},
            }
        )
    assert month.value.code == "invalid_expiry_month"


def test_a_saved_card_past_its_expiry_is_declined(sandbox, client, customer):
    """Cards expire while saved: once the clock passes the expiry month, paying with
    the card, or saving it again, is declined `expired_card`, as the issuer would."""
    card = saved(client, customer)
    sandbox.control("POST", "/_sandbox/clock", {"advance": 3 * YEAR})

    with pytest.raises(stripe.CardError) as paying:
        client.v1.payment_intents.create(
            params={
                "amount": 1_000,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": card,
                "confirm": True,
            }
        )
    assert paying.value.code == "expired_card"
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    with pytest.raises(stripe.CardError) as setting_up:
        client.v1.setup_intents.confirm(setup.id, params={"payment_method": card})
    assert setting_up.value.code == "expired_card"
    # A reissued card's new date brings it back.
    year = datetime.date.today().year + 5
    updated = client.v1.payment_methods.update(card, params={"card": {"exp_year": year}})
    assert updated.card.exp_year == year
    with pytest.raises(stripe.CardError) as past:
        client.v1.payment_methods.update(card, params={"card": {"exp_year": 2020}})
    assert past.value.code == "invalid_expiry_year"


def test_the_default_card_must_be_attached_to_that_customer(client, customer):
    mine = saved(client, customer)
    other = client.v1.customers.create(params={"email": "other@x.test"})
    theirs = saved(client, other)
    loose = new_card(client).id

    updated = client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": mine}}
    )
    assert updated.invoice_settings.default_payment_method == mine
    for pm in (theirs, loose):
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.customers.update(
                customer.id, params={"invoice_settings": {"default_payment_method": pm}}
            )
        assert error.value.param == "invoice_settings[default_payment_method]"
        assert error.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": "pm_nope"}}
        )
    assert missing.value.code == "resource_missing"
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method == (
        mine
    )


def test_detaching_the_default_card_clears_the_default(client, customer):
    first, second = saved(client, customer), saved(client, customer, "5555555555554444")
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": first}}
    )

    client.v1.payment_methods.detach(second)  # not the default: the default stays
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method == (
        first
    )
    client.v1.payment_methods.detach(first)
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None
    assert client.v1.customers.payment_methods.list(customer.id).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(first)
    types = [e.type for e in client.v1.events.list(params={"limit": 20}).data]
    assert "customer.updated" in types
    assert types.count("payment_method.detached") == 2


def test_list_by_customer_shows_only_that_customers_cards(client, customer):
    mine = saved(client, customer)
    other = client.v1.customers.create(params={"email": "other@x.test"})
    saved(client, other)
    assert [p.id for p in client.v1.customers.payment_methods.list(customer.id).data] == [mine]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.payment_methods.list("cus_missing")
