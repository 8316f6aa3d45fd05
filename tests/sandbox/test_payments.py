"""PaymentIntents, PaymentMethods, SetupIntents, customers and test cards."""

from __future__ import annotations

import threading

import pytest
import stripe

from stripe_sandbox.errors import StripeError

DECLINES = [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline", "Your card was declined."),
    (
        "pm_card_chargeDeclinedInsufficientFunds",
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card", "Your card has expired."),
    (
        "pm_card_chargeDeclinedIncorrectCvc",
        "incorrect_cvc",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
    ),
]


def card_pm(client, number: str, **extra) -> stripe.PaymentMethod:
    return client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"},
            **extra,
        }
    )


def test_customer_crud(client):
    customer = client.v1.customers.create(
        params={"email": "a@x.test", "name": "Ann", "metadata": {"user_id": "7"}}
    )
    assert customer.id.startswith("cus_")
    assert customer.livemode is False
    updated = client.v1.customers.update(
        customer.id, params={"name": "Anne", "metadata": {"user_id": "", "tier": "gold"}}
    )
    assert updated.name == "Anne"
    assert updated.metadata.to_dict() == {"tier": "gold"}
    assert client.v1.customers.retrieve(customer.id).name == "Anne"
    assert client.v1.customers.delete(customer.id).deleted is True


def test_visa_automatic_capture_succeeds(client):
    customer = client.v1.customers.create(params={"email": "buyer@x.test"})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "expand": ["latest_charge.balance_transaction", "payment_method", "customer"],
        }
    )
    assert intent.status == "succeeded"
    assert intent.amount_received == 2000
    charge = intent.latest_charge
    assert charge.captured
    assert charge.paid
    assert charge.status == "succeeded"
    assert charge.balance_transaction.amount == 2000
    assert intent.payment_method.card.last4 == "4242"
    assert intent.customer.id == customer.id
    assert intent.client_secret.startswith(f"{intent.id}_secret_")


def test_manual_capture_lifecycle(client):
    pm = card_pm(client, "4242424242424242")
    intent = client.v1.payment_intents.create(
        params={"amount": 5000, "currency": "usd", "capture_method": "manual"}
    )
    assert intent.status == "requires_payment_method"
    intent = client.v1.payment_intents.update(intent.id, params={"payment_method": pm.id})
    assert intent.status == "requires_confirmation"
    intent = client.v1.payment_intents.confirm(intent.id)
    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 5000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    card = charge.payment_method_details.card
    assert card.capture_before == charge.created + 7 * 24 * 3600
    assert charge.captured is False
    intent = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 3000})
    assert intent.status == "succeeded"
    assert intent.amount_received == 3000
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_captured == 3000
    assert charge.captured
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.capture(intent.id)
    assert again.value.code == "payment_intent_unexpected_state"
    assert "status of succeeded" in again.value.user_message


def test_capture_more_than_authorised_is_refused(client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1001})
    assert error.value.param == "amount_to_capture"


@pytest.mark.parametrize(("pm", "code", "decline_code", "message"), DECLINES)
def test_declines_are_card_errors(client, pm, code, decline_code, message):
    intent = client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd"})
    with pytest.raises(stripe.CardError) as error:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": pm})
    assert error.value.http_status == 402
    assert error.value.code == code
    assert error.value.error.decline_code == decline_code
    assert error.value.user_message == message
    assert error.value.error.payment_intent.id == intent.id
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == code
    failed = client.v1.charges.list(params={"payment_intent": intent.id}).data[0]
    assert failed.status == "failed"
    assert failed.failure_code == code
    types = [e.type for e in client.v1.events.list().data]
    assert "payment_intent.payment_failed" in types
    assert "charge.failed" in types


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "card_declined"),
        ("4000000000000069", "expired_card"),
        ("4000000000000127", "incorrect_cvc"),
    ],
)
def test_card_numbers_decide_like_shortcuts(client, number, code):
    pm = card_pm(client, number)
    with pytest.raises(stripe.CardError) as error:
        client.v1.payment_intents.create(
            params={"amount": 900, "currency": "usd", "payment_method": pm.id, "confirm": True}
        )
    assert error.value.code == code


@pytest.mark.parametrize("number", ["4000002500003155", "4000002760003184"])
def test_three_d_secure_success(sandbox, client, number):
    pm = card_pm(client, number)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 3000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": pm.id,
            "confirm": True,
        }
    )
    assert intent.status == "requires_action"
    assert intent.next_action.type == "use_stripe_sdk"
    assert intent.next_action.redirect_to_url.url == f"{sandbox.base_url}/3ds/{intent.id}"
    finished = sandbox.sandbox.three_d_secure_finish(intent.id, True)
    assert finished["status"] == "requires_capture"
    charge = client.v1.charges.retrieve(finished["latest_charge"])
    assert charge.payment_method_details.card.three_d_secure.result == "authenticated"
    with pytest.raises(StripeError):
        sandbox.sandbox.three_d_secure_finish(intent.id, True)


def test_three_d_secure_failure(sandbox, client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 3000,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
            "return_url": "https://shop.test/back",
        }
    )
    assert intent.next_action.type == "redirect_to_url"
    redirect = intent.next_action.redirect_to_url
    assert redirect.return_url == "https://shop.test/back"
    # The challenge page needs the return_url to send the buyer back afterwards.
    assert redirect.url == (
        f"{sandbox.base_url}/3ds/{intent.id}?return_url=https%3A%2F%2Fshop.test%2Fback"
    )
    finished = sandbox.sandbox.three_d_secure_finish(intent.id, False)
    assert finished["status"] == "requires_payment_method"
    assert finished["last_payment_error"]["code"] == "payment_intent_authentication_failure"


def test_setup_intent_then_off_session_payment(sandbox, client):
    customer = client.v1.customers.create(params={"email": "s@x.test"})
    setup = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "payment_method": "pm_card_authenticationRequiredOnSetup",
            "confirm": True,
        }
    )
    assert setup.status == "requires_action"
    done = sandbox.sandbox.three_d_secure_finish(setup.id, True)
    assert done["status"] == "succeeded"
    pms = client.v1.customers.payment_methods.list(customer.id)
    assert [p.id for p in pms.data] == [done["payment_method"]]
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1200,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": done["payment_method"],
            "off_session": True,
            "confirm": True,
        }
    )
    assert intent.status == "succeeded"
    always = card_pm(client, "4000002760003184")
    with pytest.raises(stripe.CardError) as error:
        client.v1.payment_intents.create(
            params={
                "amount": 1200,
                "currency": "usd",
                "payment_method": always.id,
                "off_session": True,
                "confirm": True,
            }
        )
    assert error.value.code == "authentication_required"
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert "setup_intent.succeeded" in types
    assert "setup_intent.requires_action" in types


def test_setup_intent_with_declining_card(client):
    setup = client.v1.setup_intents.create(params={"payment_method": "pm_card_chargeDeclined"})
    with pytest.raises(stripe.CardError):
        client.v1.setup_intents.confirm(setup.id)
    assert client.v1.setup_intents.retrieve(setup.id).status == "requires_payment_method"


def test_payment_methods_attach_detach_list(client):
    customer = client.v1.customers.create(params={"email": "pm@x.test"})
    pm = card_pm(client, "5555555555554444", billing_details={"name": "Ann"})
    assert pm.card.brand == "mastercard"
    assert pm.billing_details.name == "Ann"
    client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    listed = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    assert [p.id for p in listed.data] == [pm.id]
    assert client.v1.customers.payment_methods.list(customer.id).data[0].id == pm.id
    with pytest.raises(stripe.CardError):
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": customer.id})
    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None
    with pytest.raises(stripe.CardError) as bad:
        card_pm(client, "4242424242424241")
    assert bad.value.code == "incorrect_number"


def test_setup_future_usage_attaches_to_customer(client):
    customer = client.v1.customers.create(params={"email": "f@x.test"})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 700,
            "currency": "usd",
            "customer": customer.id,
            "setup_future_usage": "off_session",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    pm = client.v1.payment_methods.retrieve(intent.payment_method)
    assert pm.customer == customer.id


@pytest.mark.parametrize("reason", ["expired", "automatic", "because"])
def test_a_caller_cannot_give_a_reason_only_stripe_sets(client, reason):
    intent = client.v1.payment_intents.create(
        params={"amount": 4000, "currency": "usd", "payment_method": "pm_card_visa"}
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": reason})
    assert refused.value.param == "cancellation_reason"
    assert client.v1.payment_intents.retrieve(intent.id).status != "canceled"


def test_cancel_releases_the_authorisation(client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    canceled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled"
    assert canceled.amount_capturable == 0
    assert client.v1.charges.retrieve(intent.latest_charge).refunded is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(intent.id)


def test_uncaptured_authorisation_expires_after_seven_days(sandbox, client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    sandbox.control("POST", "/_sandbox/clock", {"advance": 7 * 24 * 3600 + 5})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(intent.id)
    expired = client.v1.payment_intents.retrieve(intent.id)
    assert expired.status == "canceled"
    assert expired.cancellation_reason == "expired"


def test_an_expired_authorisation_says_so_in_its_reason_and_events(sandbox, client):
    """Stripe cancels an authorisation past `capture_before` itself: reason `expired`
    (stripe-python's PaymentIntent.cancellation_reason), and its charge sends
    `charge.expired` ("an uncaptured charge expires"). Before: reason `automatic` and
    `charge.refunded`, as if someone had refunded it."""
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    charge = client.v1.charges.retrieve(intent.latest_charge)
    deadline = charge.payment_method_details.card.capture_before
    sandbox.control("POST", "/_sandbox/clock", {"advance": deadline - charge.created + 1})

    expired = client.v1.payment_intents.retrieve(intent.id)

    assert (expired.status, expired.cancellation_reason) == ("canceled", "expired")
    charge = client.v1.charges.retrieve(intent.latest_charge)
    # Stripe's capture reference: expired uncaptured payments "are marked as refunded".
    assert (charge.captured, charge.refunded, charge.amount_refunded) == (False, True, 4000)
    events = client.v1.events.list(params={"limit": 100}).data
    about = {e.type for e in events if e.data.object.id in (intent.id, charge.id)}
    assert {"charge.expired", "payment_intent.canceled"} <= about
    assert "charge.refunded" not in about


def test_a_canceled_authorisation_is_still_refunded_not_expired(client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "abandoned"})
    events = client.v1.events.list(params={"limit": 100}).data
    about = {e.type for e in events if e.data.object.id == intent.latest_charge}
    assert "charge.refunded" in about
    assert "charge.expired" not in about


def test_amount_rules(client):
    with pytest.raises(stripe.InvalidRequestError) as small:
        client.v1.payment_intents.create(params={"amount": 10, "currency": "usd"})
    assert small.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as fee:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "application_fee_amount": 10}
        )
    assert fee.value.param == "application_fee_amount"


def test_two_threads_capturing_one_intent(sandbox):
    clients = [sandbox.client(), sandbox.client()]
    intent = clients[0].v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def capture(client) -> None:
        barrier.wait()
        try:
            outcomes.append(client.v1.payment_intents.capture(intent.id).status)
        except stripe.InvalidRequestError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=capture, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["payment_intent_unexpected_state", "succeeded"]
    assert len(clients[0].v1.balance_transactions.list(params={"type": "charge"}).data) == 1


def test_events_record_the_lifecycle(client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": True,
        },
        options={"idempotency_key": "ik-1"},
    )
    client.v1.payment_intents.capture(intent.id)
    events = list(reversed(client.v1.events.list(params={"limit": 100}).data))
    assert [e.type for e in events] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.amount_capturable_updated",
        "charge.captured",
        "payment_intent.succeeded",
        "balance.available",
    ]
    created = events[0]
    assert created.request.idempotency_key == "ik-1"
    assert created.data.object.id == intent.id
    assert events[3].data.previous_attributes.captured is False
    assert client.v1.events.retrieve(created.id).type == "payment_intent.created"
    only = client.v1.events.list(params={"type": "charge.*"}).data
    assert {e.type for e in only} == {"charge.succeeded", "charge.captured"}
