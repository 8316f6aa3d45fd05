"""Disputes at the sandbox: the dispute test cards, the platform's balance to the cent,
evidence (staged, submitted, files), closing, the bank's decision, and the events."""

from __future__ import annotations

import httpx
import pytest
import stripe

from .helpers import PNG, available, custom_account, destination_payment, file_like, pending

FEE = 1500


def platform_total(client) -> int:
    return available(client) + pending(client)


def dispute_of(client, intent) -> stripe.Dispute:
    found = client.v1.disputes.list({"payment_intent": intent.id}).data
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ("pm_card_createDispute", "fraudulent"),
        ("pm_card_createDisputeProductNotReceived", "product_not_received"),
    ],
)
def test_dispute_cards_open_a_dispute_once_captured(client, card, reason):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 10_000, 1_030, capture=False, card=card)
    assert not client.v1.disputes.list({"payment_intent": intent.id}).data
    before = platform_total(client)

    intent = client.v1.payment_intents.capture(intent.id)
    dispute = dispute_of(client, intent)
    assert (dispute.status, dispute.reason, dispute.amount) == ("needs_response", reason, 10_000)
    assert dispute.charge == intent.latest_charge
    assert dispute.evidence_details.due_by > dispute.created
    assert client.v1.charges.retrieve(intent.latest_charge).disputed is True
    # The platform (merchant of record) pays the amount and the 15.00 fee, at once;
    # the capture credited it with its 10.30 fee.
    [withdrawal] = dispute.balance_transactions
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (-10_000, FEE, -11_500)
    assert withdrawal.fee_details[0].description == "Dispute fee"
    assert platform_total(client) == before + 1_030 - 10_000 - FEE


def test_card_numbers_dispute_too(client):
    method = client.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": "4000000000002685", "exp_month": 12, "exp_year": 2040, "cvc": "123"},
        }
    )
    intent = client.v1.payment_intents.create(
        {"amount": 2_000, "currency": "usd", "payment_method": method.id, "confirm": True}
    )
    assert dispute_of(client, intent).reason == "product_not_received"


def test_ordinary_cards_are_not_disputed(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 5_000, 500)
    assert not client.v1.disputes.list({"payment_intent": intent.id}).data


def test_staged_evidence_then_submission(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 4_000, 400, card="pm_card_createDispute")
    dispute = dispute_of(client, intent)
    upload = client.v1.files.create(
        {"purpose": "dispute_evidence", "file": file_like("receipt.png", PNG)}
    )
    staged = client.v1.disputes.update(
        dispute.id,
        {"evidence": {"product_description": "A bowl", "receipt": upload.id}, "submit": False},
    )
    assert staged.status == "needs_response"
    assert staged.evidence.receipt == upload.id
    assert staged.evidence_details.has_evidence is True
    assert staged.evidence_details.submission_count == 0

    submitted = client.v1.disputes.update(dispute.id, {"evidence": {"customer_name": "Ann"}})
    assert submitted.status == "under_review"  # submit defaults to true
    assert submitted.evidence.product_description == "A bowl"
    assert submitted.evidence_details.submission_count == 1
    with pytest.raises(stripe.InvalidRequestError, match="already submitted"):
        client.v1.disputes.update(dispute.id, {"evidence": {"customer_name": "Bob"}})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute.id)


def test_evidence_files_must_be_dispute_evidence_uploads(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 4_000, 400, card="pm_card_createDispute")
    dispute = dispute_of(client, intent)
    identity = client.v1.files.create(
        {"purpose": "identity_document", "file": file_like("id.png", PNG)}
    )
    with pytest.raises(stripe.InvalidRequestError, match="dispute_evidence") as wrong:
        client.v1.disputes.update(dispute.id, {"evidence": {"receipt": identity.id}})
    assert wrong.value.param == "evidence[receipt]"
    with pytest.raises(stripe.InvalidRequestError, match="No such file"):
        client.v1.disputes.update(dispute.id, {"evidence": {"receipt": "file_missing"}})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.update(dispute.id, {"evidence": {"no_such_field": "x"}})
    assert client.v1.disputes.retrieve(dispute.id).status == "needs_response"


def test_closing_accepts_the_loss(client, receiver):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 4_000, 400, card="pm_card_createDispute")
    dispute = dispute_of(client, intent)
    closed = client.v1.disputes.close(dispute.id)
    assert closed.status == "lost"
    with pytest.raises(stripe.InvalidRequestError, match="already closed"):
        client.v1.disputes.close(dispute.id)
    receiver.wait_for(lambda got: "charge.dispute.closed" in [r.event["type"] for r in got])
    types = [t for t in receiver.types("/platform") if t.startswith("charge.dispute")]
    assert types == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
    ]
    assert not [t for t in receiver.types("/connect") if t.startswith("charge.dispute")]


def test_won_dispute_gives_back_amount_and_fee(client, sandbox, receiver):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 10_000, 1_030, card="pm_card_createDispute")
    dispute = dispute_of(client, intent)
    after_withdrawal = platform_total(client)
    decided = sandbox.control(
        "POST", f"/_sandbox/disputes/{dispute.id}/resolve", {"outcome": "won"}
    )
    assert decided["status"] == "won"
    assert platform_total(client) == after_withdrawal + 10_000 + FEE
    reinstated = client.v1.disputes.retrieve(dispute.id).balance_transactions[1]
    assert (reinstated.amount, reinstated.net) == (10_000, 11_500)
    receiver.wait_for(lambda got: "charge.dispute.closed" in [r.event["type"] for r in got])
    assert "charge.dispute.funds_reinstated" in receiver.types("/platform")


def test_winning_evidence_decides_at_once_as_in_test_mode(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 3_000, 300, card="pm_card_createDispute")
    dispute = dispute_of(client, intent)
    done = client.v1.disputes.update(
        dispute.id, {"evidence": {"uncategorized_text": "losing_evidence"}}
    )
    assert client.v1.disputes.retrieve(done.id).status == "lost"


def test_control_refuses_bad_outcomes_and_second_decisions(client, sandbox):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 3_000, 300, card="pm_card_createDispute")
    dispute = dispute_of(client, intent)
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        sandbox.control("POST", f"/_sandbox/disputes/{dispute.id}/resolve", {"outcome": "maybe"})
    sandbox.control("POST", f"/_sandbox/disputes/{dispute.id}/resolve", {"outcome": "lost"})
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        sandbox.control("POST", f"/_sandbox/disputes/{dispute.id}/resolve", {"outcome": "won"})


def test_connected_accounts_do_not_see_platform_disputes(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 3_000, 300, card="pm_card_createDispute")
    dispute = dispute_of(client, intent)
    with pytest.raises(stripe.InvalidRequestError, match="No such dispute"):
        client.v1.disputes.retrieve(dispute.id, options={"stripe_account": account.id})


def test_a_disputed_charge_cannot_be_refunded(client):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 3_000, 300, card="pm_card_createDispute")
    with pytest.raises(stripe.InvalidRequestError, match="charged back") as refused:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 100})
    assert refused.value.code == "charge_disputed"


def test_evidence_files_are_pdf_jpeg_or_png_of_at_most_5_mb(client):
    with pytest.raises(stripe.InvalidRequestError, match="jpg, png, pdf"):
        client.v1.files.create(
            {"purpose": "dispute_evidence", "file": file_like("notes.txt", b"plain words")}
        )
    with pytest.raises(stripe.InvalidRequestError, match="maximum"):
        client.v1.files.create(
            {
                "purpose": "dispute_evidence",
                "file": file_like("big.png", PNG + b"\0" * (5 * 1024 * 1024)),
            }
        )
    pdf = client.v1.files.create(
        {"purpose": "dispute_evidence", "file": file_like("receipt.pdf", b"%PDF-1.4 x")}
    )
    assert (pdf.purpose, pdf.type) == ("dispute_evidence", "pdf")


def test_the_inquiry_card_opens_an_inquiry_that_moves_no_money(client, sandbox, receiver):
    account = custom_account(client)
    before = platform_total(client)
    intent = destination_payment(
        client, account.id, 5_000, 500, card="pm_card_createDisputeInquiry"
    )
    inquiry = dispute_of(client, intent)
    assert (inquiry.status, inquiry.is_charge_refundable) == ("warning_needs_response", True)
    assert inquiry.balance_transactions == []
    assert platform_total(client) == before + 500
    # An inquiry may be settled with a refund, unlike a chargeback.
    refund = client.v1.refunds.create({"payment_intent": intent.id, "amount": 1_000})
    assert refund.status == "succeeded"

    dropped = sandbox.control(
        "POST", f"/_sandbox/disputes/{inquiry.id}/resolve", {"outcome": "won"}
    )
    assert dropped["status"] == "warning_closed"
    receiver.wait_for(lambda got: "charge.dispute.closed" in [r.event["type"] for r in got])
    types = [t for t in receiver.types("/platform") if t.startswith("charge.dispute")]
    assert types == ["charge.dispute.created", "charge.dispute.closed"]


def test_an_escalated_inquiry_becomes_a_chargeback(client, sandbox):
    account = custom_account(client)
    intent = destination_payment(
        client, account.id, 5_000, 500, card="pm_card_createDisputeInquiry"
    )
    inquiry = dispute_of(client, intent)
    before = platform_total(client)
    escalated = sandbox.control(
        "POST", f"/_sandbox/disputes/{inquiry.id}/resolve", {"outcome": "lost"}
    )
    assert (escalated["status"], escalated["is_charge_refundable"]) == ("needs_response", False)
    assert platform_total(client) == before - 5_000 - FEE
    with pytest.raises(stripe.InvalidRequestError, match="charged back"):
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 100})


def test_control_refuses_to_dispute_more_than_the_charge_holds(client, sandbox):
    account = custom_account(client)
    intent = destination_payment(client, account.id, 3_000, 300)
    client.v1.refunds.create({"payment_intent": intent.id})
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        sandbox.control("POST", f"/_sandbox/charges/{intent.latest_charge}/dispute", {})
    other = destination_payment(client, account.id, 3_000, 300)
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        sandbox.control(
            "POST", f"/_sandbox/charges/{other.latest_charge}/dispute", {"amount": 3_001}
        )
