"""Separate charges and transfers at the sandbox, to the cent: a platform charge in a
`transfer_group`, transfers from it (`source_transaction`) that wait for its money,
what a charge can still fund, and reversals that need the contractor's balance."""

from __future__ import annotations

import time

import pytest
import stripe

from .helpers import available, custom_account, pending


def platform_charge(client, amount=12_000, group="checkout-1", capture=True):
    intent = client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "capture_method": "manual",
            "transfer_group": group,
        }
    )
    if capture:
        intent = client.v1.payment_intents.capture(intent.id)
    return intent


def transfer(client, account, amount, charge, **extra):
    return client.v1.transfers.create(
        params={
            "amount": amount,
            "currency": "usd",
            "destination": account,
            "source_transaction": charge,
            **extra,
        }
    )


def settle_all(sandbox):
    sandbox.control("POST", "/_sandbox/balance/settle", {})


def test_the_group_goes_from_the_intent_to_its_charge_and_transfers(client):
    account = custom_account(client)
    intent = platform_charge(client)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert intent.transfer_group == charge.transfer_group == "checkout-1"
    # No transfer of its own (Stripe leaves the field out) and no application fee.
    assert charge.to_dict().get("transfer") is None
    assert charge.application_fee is None

    # Without a group of its own the transfer takes its charge's; another is refused.
    made = transfer(client, account.id, 1_000, charge.id)
    assert made.transfer_group == "checkout-1"
    with pytest.raises(stripe.InvalidRequestError) as other:
        transfer(client, account.id, 1_000, charge.id, transfer_group="checkout-2")
    assert other.value.param == "transfer_group"
    listed = client.v1.transfers.list(params={"transfer_group": "checkout-1"}).data
    assert [t.id for t in listed] == [made.id]


def test_transfers_wait_for_the_charges_money_on_both_sides(sandbox, client):
    sandbox.control("POST", "/_sandbox/config", {"available_after": 3600})
    alice, bob = custom_account(client), custom_account(client)
    intent = platform_charge(client)
    assert (pending(client), available(client)) == (12_000, 0)

    # Whatever the platform's available balance (nothing), the transfers succeed: their
    # money is the charge's, pending until the charge's is available.
    transfer(client, alice.id, 8_070, intent.latest_charge)
    transfer(client, bob.id, 2_670, intent.latest_charge)
    assert (pending(client), available(client)) == (12_000 - 8_070 - 2_670, 0)
    assert (pending(client, alice.id), available(client, alice.id)) == (8_070, 0)
    assert (pending(client, bob.id), available(client, bob.id)) == (2_670, 0)

    sandbox.control("POST", "/_sandbox/clock", {"advance": 3601})
    deadline = time.monotonic() + 3
    while available(client, bob.id) != 2_670 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (pending(client), available(client)) == (0, 1_260)  # the platform's fees
    assert (pending(client, alice.id), available(client, alice.id)) == (0, 8_070)
    assert (pending(client, bob.id), available(client, bob.id)) == (0, 2_670)


def test_a_charge_funds_no_more_than_refunds_and_earlier_transfers_left(client):
    alice, bob = custom_account(client), custom_account(client)
    intent = platform_charge(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 3_000})
    transfer(client, alice.id, 8_070, intent.latest_charge)

    # 12,000 − 3,000 refunded − 8,070 transferred = 930 left.
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        transfer(client, bob.id, 931, intent.latest_charge)
    assert too_much.value.param == "amount"
    assert "$9.30" in too_much.value.user_message
    transfer(client, bob.id, 930, intent.latest_charge)
    assert available(client) == 12_000 - 3_000 - 8_070 - 930 == 0


def test_a_reversed_transfer_does_not_lift_stripes_limit_on_the_charge(sandbox, client):
    """Stripe's own rule counts every transfer made from the charge."""
    alice = custom_account(client)
    intent = platform_charge(client, amount=10_000)
    made = transfer(client, alice.id, 10_000, intent.latest_charge)
    settle_all(sandbox)
    client.v1.transfers.reversals.create(made.id, params={"amount": 10_000})
    with pytest.raises(stripe.InvalidRequestError):
        transfer(client, alice.id, 1, intent.latest_charge)


def test_an_uncaptured_charge_funds_nothing(client):
    account = custom_account(client)
    intent = platform_charge(client, capture=False)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        transfer(client, account.id, 1_000, intent.latest_charge)
    assert refused.value.param == "source_transaction"


def test_a_reversal_needs_the_contractors_available_balance(sandbox, client):
    sandbox.control("POST", "/_sandbox/config", {"available_after": 3600})
    bob = custom_account(client)
    intent = platform_charge(client)
    made = transfer(client, bob.id, 2_670, intent.latest_charge)

    # Bob's money is still pending: Stripe reverses a group transfer only from what
    # the account has; a refused request changes nothing.
    with pytest.raises(stripe.InvalidRequestError) as short:
        client.v1.transfers.reversals.create(made.id, params={"amount": 890})
    assert short.value.code == "balance_insufficient"
    assert client.v1.transfers.retrieve(made.id).amount_reversed == 0
    assert pending(client, bob.id) == 2_670

    settle_all(sandbox)
    reversal = client.v1.transfers.reversals.create(made.id, params={"amount": 890})
    assert reversal.amount == 890
    assert available(client, bob.id) == 2_670 - 890
    # The platform gets it back at once, available.
    assert available(client) == 12_000 - 2_670 + 890


def test_a_destination_charges_transfer_is_reversed_whatever_the_balance(sandbox, client):
    from .helpers import destination_payment

    sandbox.control("POST", "/_sandbox/config", {"available_after": 3600})
    account = custom_account(client)
    intent = destination_payment(client, account.id, 5_000, 500)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    reversal = client.v1.transfers.reversals.create(charge.transfer, params={"amount": 1_000})
    assert reversal.amount == 1_000
    assert available(client, account.id) == -1_000  # out of the available balance


def test_refunding_a_platform_charge_touches_no_transfer(sandbox, client):
    bob = custom_account(client)
    intent = platform_charge(client)
    made = transfer(client, bob.id, 2_670, intent.latest_charge)
    settle_all(sandbox)

    with pytest.raises(stripe.InvalidRequestError) as linked:
        client.v1.refunds.create(
            params={"payment_intent": intent.id, "amount": 3_000, "reverse_transfer": True}
        )
    assert linked.value.param == "reverse_transfer"
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 3_000})
    assert refund.transfer_reversal is None
    assert client.v1.transfers.retrieve(made.id).amount_reversed == 0
    assert available(client, bob.id) == 2_670
    assert available(client) == 12_000 - 2_670 - 3_000


def test_a_refused_reversal_is_replayed_for_its_key_and_a_new_key_tries_again(sandbox, client):
    """Stripe keeps a refusal for its idempotency key like any result: a retry after
    one needs a new key (payments.models.attempt_key)."""
    sandbox.control("POST", "/_sandbox/config", {"available_after": 3600})
    bob = custom_account(client)
    intent = platform_charge(client)
    made = transfer(client, bob.id, 2_670, intent.latest_charge)
    first = {"idempotency_key": "reversal-1"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(made.id, params={"amount": 890}, options=first)
    settle_all(sandbox)
    with pytest.raises(stripe.InvalidRequestError) as replayed:
        client.v1.transfers.reversals.create(made.id, params={"amount": 890}, options=first)
    assert replayed.value.code == "balance_insufficient"
    again = {"idempotency_key": "reversal-1/after-1"}
    reversal = client.v1.transfers.reversals.create(made.id, params={"amount": 890}, options=again)
    assert reversal.amount == 890
