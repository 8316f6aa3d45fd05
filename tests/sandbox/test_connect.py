"""Connected accounts, onboarding, files and the Connect money flow to the cent."""

from __future__ import annotations

import time

import pytest
import stripe

from stripe_sandbox.errors import LinkExpired

from .helpers import (
    BANK_ACCOUNT,
    BUSINESS,
    PNG,
    US_INDIVIDUAL,
    available,
    custom_account,
    destination_payment,
    express_account,
    file_like,
    pending,
    upload_document,
)


def test_file_upload(sandbox, client):
    upload = client.v1.files.create(
        params={"purpose": "identity_document", "file": file_like("passport.png", PNG)}
    )
    assert upload.id.startswith("file_")
    assert upload.size == len(PNG)
    assert upload.type == "png"
    assert client.v1.files.retrieve(upload.id).purpose == "identity_document"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.files.create(
            params={"purpose": "identity_document", "file": file_like("notes.txt", b"hello")}
        )


def test_custom_account_enabled_by_its_details(client):
    account = custom_account(client)
    assert account.charges_enabled
    assert account.payouts_enabled
    assert account.details_submitted
    assert account.requirements.currently_due == []
    assert account.capabilities.transfers == "active"
    assert account.type == "custom"
    assert account.tos_acceptance.ip == "203.0.113.9"


def test_custom_account_missing_documents_stays_disabled(client):
    account = client.v1.accounts.create(
        params={
            "type": "custom",
            "business_type": "individual",
            "business_profile": BUSINESS,
            "external_account": BANK_ACCOUNT,
            "tos_acceptance": {"date": 1_700_000_000, "ip": "203.0.113.9"},
            "individual": US_INDIVIDUAL,
        }
    )
    assert not account.charges_enabled
    assert account.requirements.currently_due == [
        "individual.verification.additional_document",
        "individual.verification.document",
    ]
    assert account.requirements.disabled_reason == "requirements.past_due"
    front, extra = upload_document(client, account.id), upload_document(client, account.id)
    account = client.v1.accounts.update(
        account.id,
        params={
            "individual": {
                "verification": {
                    "document": {"front": front},
                    "additional_document": {"front": extra},
                }
            }
        },
    )
    assert account.charges_enabled
    with pytest.raises(stripe.InvalidRequestError) as bad_file:
        client.v1.accounts.update(
            account.id,
            params={"individual": {"verification": {"document": {"front": "file_missing"}}}},
        )
    assert bad_file.value.param == "individual[verification][document][front]"


def test_express_account_helper(sandbox, client):
    assert express_account(client, sandbox).charges_enabled


def test_express_onboarding_through_account_link(sandbox, client):
    account = client.v1.accounts.create(params={"type": "express"})
    assert not account.charges_enabled
    assert "external_account" in account.requirements.currently_due
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.update(account.id, params={"tos_acceptance": {"date": 1, "ip": "x"}})
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://shop.test/refresh",
            "return_url": "https://shop.test/done",
        }
    )
    link_id = link.url.rsplit("/", 1)[1]
    assert link.url == f"{sandbox.base_url}/connect/onboarding/{link_id}"
    assert link.expires_at - link.created == 300
    info = sandbox.sandbox.account_link_get(link_id)
    assert info["account"] == account.id
    assert info["used"] is False
    assert sandbox.sandbox.onboarding_complete(link_id) == "https://shop.test/done"
    with pytest.raises(LinkExpired) as expired:
        sandbox.sandbox.onboarding_complete(link_id)
    assert expired.value.refresh_url == "https://shop.test/refresh"
    account = client.v1.accounts.retrieve(account.id)
    assert account.charges_enabled
    assert account.payouts_enabled
    assert account.details_submitted
    updated = [
        e
        for e in client.v1.events.list(options={"stripe_account": account.id}).data
        if e.type == "account.updated"
    ]
    assert updated
    assert updated[0].account == account.id


def test_account_link_expires(sandbox, client):
    account = client.v1.accounts.create(params={"type": "express"})
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://shop.test/refresh",
            "return_url": "https://shop.test/done",
        }
    )
    sandbox.control("POST", "/_sandbox/clock", {"advance": 301})
    with pytest.raises(LinkExpired):
        sandbox.sandbox.onboarding_complete(link.url.rsplit("/", 1)[1])


def test_control_can_impose_requirements(sandbox, client):
    account = custom_account(client)
    sandbox.control(
        "POST",
        f"/_sandbox/accounts/{account.id}/requirements",
        {"currently_due": ["individual.verification.document"]},
    )
    account = client.v1.accounts.retrieve(account.id)
    assert not account.charges_enabled
    assert account.requirements.currently_due == ["individual.verification.document"]
    sandbox.control("POST", f"/_sandbox/accounts/{account.id}/requirements", {"clear": True})
    assert client.v1.accounts.retrieve(account.id).charges_enabled
    assert [a.id for a in client.v1.accounts.list().data] == [account.id]


def test_destination_charge_needs_an_enabled_destination(client):
    account = client.v1.accounts.create(params={"type": "express"})
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "transfer_data": {"destination": account.id}}
        )
    assert error.value.param == "transfer_data[destination]"


def test_destination_charge_money_flow_to_the_cent(sandbox, client):
    sandbox.control("POST", "/_sandbox/config", {"available_after": 3600})
    account = custom_account(client)
    intent = destination_payment(client, account.id, 10_000, 1_250, capture=False)
    assert available(client) == 0
    assert pending(client) == 0
    intent = client.v1.payment_intents.capture(
        intent.id, params={"expand": ["latest_charge.balance_transaction"]}
    )
    charge = intent.latest_charge
    transfer = client.v1.transfers.retrieve(
        charge.transfer, params={"expand": ["destination_payment"]}
    )
    fee = client.v1.application_fees.retrieve(charge.application_fee)
    assert transfer.amount == 10_000
    assert transfer.destination == account.id
    assert transfer.source_transaction == charge.id
    assert fee.amount == 1_250
    assert fee.account == account.id
    assert fee.charge == charge.id
    # Platform keeps the fee; the contractor's share is pending until available_on.
    assert pending(client) == 1_250
    assert available(client) == 0
    assert pending(client, account.id) == 8_750
    assert available(client, account.id) == 0
    payment_txn = client.v1.balance_transactions.list(options={"stripe_account": account.id}).data[
        0
    ]
    assert (payment_txn.type, payment_txn.amount, payment_txn.fee, payment_txn.net) == (
        "payment",
        10_000,
        1_250,
        8_750,
    )
    assert payment_txn.status == "pending"
    sandbox.control("POST", "/_sandbox/clock", {"advance": 3601})
    deadline = time.monotonic() + 3
    while available(client, account.id) != 8_750 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert available(client, account.id) == 8_750
    assert pending(client, account.id) == 0
    assert available(client) == 1_250
    connected_events = client.v1.events.list(options={"stripe_account": account.id}).data
    assert "balance.available" in [e.type for e in connected_events]


def test_partial_capture_with_fee_at_capture(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 10_000, 1_000, capture=False)
    intent = client.v1.payment_intents.capture(
        intent.id, params={"amount_to_capture": 6_000, "application_fee_amount": 600}
    )
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_captured == 6_000
    assert client.v1.transfers.retrieve(charge.transfer).amount == 6_000
    assert client.v1.application_fees.retrieve(charge.application_fee).amount == 600
    assert available(client) == 600
    assert available(client, account.id) == 5_400


@pytest.mark.parametrize(
    ("captured", "fee", "platform", "contractor"),
    [
        # Stripe keeps the fee set at creation when the capture names none...
        (6_000, None, 1_030, 4_970),
        # ...capped at what is captured: all of a small capture may go to the fee.
        (600, None, 600, 0),
        # A fee named at capture replaces it (what payments.gateway now always sends
        # with a partial capture), and is capped the same way.
        (6_000, 630, 630, 5_370),
        (500, 700, 500, 0),
    ],
)
def test_partial_capture_fee_as_stripe_computes_it(client, captured, fee, platform, contractor):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 10_000, 1_030, capture=False)
    params = {"amount_to_capture": captured}
    if fee is not None:
        params["application_fee_amount"] = fee
    intent = client.v1.payment_intents.capture(intent.id, params=params)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_captured == captured
    assert charge.amount_refunded == 10_000 - captured  # the rest is released
    assert client.v1.transfers.retrieve(charge.transfer).amount == captured
    if platform:
        assert client.v1.application_fees.retrieve(charge.application_fee).amount == platform
    assert available(client) == platform
    assert available(client, account.id) + pending(client, account.id) == contractor


def test_refund_without_reversal_is_borne_by_the_platform(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 10_000, 1_000)
    refund = client.v1.refunds.create(
        params={
            "payment_intent": intent.id,
            "amount": 4_000,
            "reason": "requested_by_customer",
            "metadata": {"order_id": "42"},
        }
    )
    assert refund.status == "succeeded"
    assert refund.transfer_reversal is None
    assert refund.metadata.order_id == "42"
    assert available(client) == 1_000 - 4_000
    assert available(client, account.id) == 9_000


def test_partial_refunds_with_reversal_and_fee_refund_add_up(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 10_001, 1_001)
    charge_id = intent.latest_charge
    first = client.v1.refunds.create(
        params={
            "charge": charge_id,
            "amount": 3_333,
            "reverse_transfer": True,
            "refund_application_fee": True,
        }
    )
    reversal = client.v1.transfers.reversals.retrieve(
        client.v1.charges.retrieve(charge_id).transfer, first.transfer_reversal
    )
    assert reversal.amount == 3_333
    assert reversal.source_refund == first.id
    fee = client.v1.application_fees.retrieve(client.v1.charges.retrieve(charge_id).application_fee)
    assert fee.amount_refunded == 334  # round_half_up(3333 * 1001 / 10001) = 333.6
    assert available(client) == 1_001 - 334
    assert available(client, account.id) == 9_000 - 3_333 + 334
    client.v1.refunds.create(
        params={"charge": charge_id, "reverse_transfer": True, "refund_application_fee": True}
    )
    charge = client.v1.charges.retrieve(charge_id, params={"expand": ["refunds"]})
    assert charge.refunded
    assert charge.amount_refunded == 10_001
    assert len(charge.refunds.data) == 2
    assert available(client) == 0
    assert available(client, account.id) == 0
    transfer = client.v1.transfers.retrieve(charge.transfer)
    assert transfer.reversed
    assert transfer.amount_reversed == 10_001
    assert client.v1.application_fees.retrieve(charge.application_fee).refunded
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"charge": charge_id, "amount": 1})
    assert again.value.code == "charge_already_refunded"


def test_reversal_without_fee_refund_leaves_the_fee_with_the_platform(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 10_000, 1_000)
    client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 5_000, "reverse_transfer": True}
    )
    assert available(client) == 1_000
    assert available(client, account.id) == 4_000
    with pytest.raises(stripe.InvalidRequestError) as over:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 5_001})
    assert over.value.param == "amount"
    assert "greater than unrefunded amount" in over.value.user_message


def test_account_debit_may_make_the_balance_negative(client):
    account = custom_account(client)
    destination_payment(client, account.id, 2_000, 200)
    debit = client.v1.charges.create(
        params={
            "amount": 5_000,
            "currency": "usd",
            "source": account.id,
            "description": "no-show penalty",
        }
    )
    assert debit.id.startswith("py_")
    assert debit.status == "succeeded"
    assert available(client, account.id) == 1_800 - 5_000
    assert available(client) == 200 + 5_000


def test_separate_transfers_and_reversals(client):
    account = custom_account(client)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 8_000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "transfer_group": "order-9",
        }
    )
    transfer = client.v1.transfers.create(
        params={
            "amount": 5_000,
            "currency": "usd",
            "destination": account.id,
            "source_transaction": intent.latest_charge,
            "transfer_group": "order-9",
        }
    )
    assert transfer.amount == 5_000
    assert transfer.transfer_group == "order-9"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.create(
            params={
                "amount": 3_001,
                "currency": "usd",
                "destination": account.id,
                "source_transaction": intent.latest_charge,
            }
        )
    reversal = client.v1.transfers.reversals.create(transfer.id, params={"amount": 1_000})
    assert reversal.amount == 1_000
    listed = client.v1.transfers.reversals.list(transfer.id)
    assert [r.id for r in listed.data] == [reversal.id]
    assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 1_000
    assert available(client, account.id) == 4_000
    assert available(client) == 4_000
    group = client.v1.transfers.list(params={"transfer_group": "order-9"})
    assert [t.id for t in group.data] == [transfer.id]
    with pytest.raises(stripe.InvalidRequestError) as broke:
        client.v1.transfers.create(
            params={"amount": 100_000, "currency": "usd", "destination": account.id}
        )
    assert broke.value.code == "balance_insufficient"


def test_application_fee_refund_endpoint(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 5_000, 500)
    fee_id = client.v1.charges.retrieve(intent.latest_charge).application_fee
    refund = client.v1.application_fees.refunds.create(fee_id, params={"amount": 200})
    assert refund.amount == 200
    assert refund.fee == fee_id
    assert [r.id for r in client.v1.application_fees.refunds.list(fee_id).data] == [refund.id]
    assert available(client) == 300
    assert available(client, account.id) == 4_700
    fees = client.v1.application_fees.list(params={"charge": intent.latest_charge})
    assert fees.data[0].amount_refunded == 200


def test_payouts_for_a_connected_account(sandbox, client):
    account = custom_account(client)
    destination_payment(client, account.id, 6_000, 1_000)
    scoped = {"stripe_account": account.id}
    payout = client.v1.payouts.create(params={"amount": 2_000, "currency": "usd"}, options=scoped)
    assert payout.status == "pending"
    assert available(client, account.id) == 3_000
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.payouts.create(params={"amount": 10_000, "currency": "usd"}, options=scoped)
    assert too_much.value.code == "balance_insufficient"
    sandbox.control("POST", "/_sandbox/payouts/run", {"account": account.id})
    payouts = client.v1.payouts.list(options=scoped).data
    assert {p.status for p in payouts} == {"paid"}
    assert len(payouts) == 2
    assert available(client, account.id) == 0
    destination_payment(client, account.id, 2_000, 1)
    sandbox.control("POST", "/_sandbox/payouts/run", {"account": account.id, "fail": True})
    failed = client.v1.payouts.list(params={"status": "failed"}, options=scoped).data
    assert len(failed) == 1
    assert failed[0].failure_code == "account_closed"
    assert available(client, account.id) == 1_999
    types = [e.type for e in client.v1.events.list(params={"limit": 100}, options=scoped).data]
    assert {"payout.created", "payout.paid", "payout.failed"} <= set(types)


def test_balance_transactions_list_and_retrieve(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 3_000, 300)
    txns = client.v1.balance_transactions.list().data
    assert sorted(t.type for t in txns) == ["application_fee", "charge", "transfer"]
    charge_txn = client.v1.balance_transactions.list(params={"type": "charge"}).data[0]
    assert charge_txn.source == intent.latest_charge
    assert client.v1.balance_transactions.retrieve(charge_txn.id).net == 3_000


def test_a_platform_file_is_not_a_connected_accounts_document(client):
    """A file belongs to the account that uploaded it. Before, a file uploaded without
    the account's Stripe-Account header (the platform's own) was taken as its document."""
    account = client.v1.accounts.create(
        params={"type": "custom", "country": "US", "individual": US_INDIVIDUAL}
    )
    other = client.v1.accounts.create(params={"type": "custom", "country": "US"})
    for uploader in (None, other.id):  # the platform's file, another account's file
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.accounts.update(
                account.id,
                params={
                    "individual": {
                        "verification": {"document": {"front": upload_document(client, uploader)}}
                    }
                },
            )
        assert refused.value.code == "resource_missing"
        assert refused.value.param == "individual[verification][document][front]"
    own = upload_document(client, account.id)
    updated = client.v1.accounts.update(
        account.id, params={"individual": {"verification": {"document": {"front": own}}}}
    )
    assert updated.individual.verification.document.front == own


def test_an_identity_document_is_jpg_png_or_pdf_not_gif(client):
    """Stripe's account parameters: documents "in JPG, PNG, or PDF format". Before, the
    sandbox took a GIF while its own error message listed jpg, png, pdf."""
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.files.create(
            params={"purpose": "identity_document", "file": file_like("id.gif", b"GIF89a" + PNG)}
        )
    assert refused.value.param == "file"
    assert "jpg, png, pdf" in str(refused.value)
    pdf = client.v1.files.create(
        params={"purpose": "identity_document", "file": file_like("id.pdf", b"%PDF-1.4 x")}
    )
    assert pdf.type == "pdf"


def test_an_identity_document_of_10_mb_or_more_is_refused(client):
    account = client.v1.accounts.create(params={"type": "custom", "country": "US"})
    big = client.v1.files.create(
        params={
            "purpose": "identity_document",
            "file": file_like("id.png", PNG + b"\x00" * (10 * 1024 * 1024)),
        },
        options={"stripe_account": account.id},
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.accounts.update(
            account.id,
            params={"individual": {"verification": {"document": {"front": big.id}}}},
        )
    assert refused.value.param == "individual[verification][document][front]"
