"""The dashboard's "Debits and disputes": what a dispute took back from a checkout's
transfer and gave back when won, beside the contractor's debits, newest first."""

import pytest
from django.urls import reverse

from accounts import selectors
from payments.models import ContractorDebit, Dispute, DisputeAction, Payment
from tests.factories import ContractorFactory, OrderFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def disputed_payment(seller, name="lines") -> tuple[Payment, Dispute]:
    order = OrderFactory(seller=seller, amount=6_000, fee_amount=600, status="captured")
    payment = PaymentFactory(
        order=order,
        status=Payment.Status.CAPTURED,
        amount_captured=6_000,
        stripe_charge_id=f"ch_{name}",
        transfer_group=f"checkout-{name}",
    )
    dispute = Dispute.objects.create(
        stripe_dispute_id=f"dp_{name}",
        stripe_charge_id=f"ch_{name}",
        payment=payment,
        order=order,
        status="won",
        reason="product_not_received",
        amount=6_000,
        currency="usd",
    )
    return payment, dispute


def test_a_disputes_reversal_and_give_back_are_listed_with_the_debits(client):
    seller = ContractorFactory()
    payment, dispute = disputed_payment(seller)
    ContractorDebit.objects.create(
        contractor=seller, amount=500, currency="usd", reason="No-show", method="account_debit"
    )
    common = {"dispute": dispute, "payment": payment, "due_at": None}
    DisputeAction.objects.create(
        kind="reverse_transfer", amount=5_400, status="succeeded", **common
    )
    DisputeAction.objects.create(kind="return_funds", amount=5_400, status="succeeded", **common)
    # Someone else's dispute is not this contractor's business.
    other_payment, other = disputed_payment(ContractorFactory(), "other")
    DisputeAction.objects.create(
        kind="reverse_transfer", amount=100, dispute=other, payment=other_payment, due_at=None
    )
    lines = selectors.debit_list(contractor=seller)
    assert [(line.amount, line.reason) for line in lines] == [
        (5_400, "Dispute dp_lines (product not received): won: given back"),
        (-5_400, "Dispute dp_lines (product not received): disputed amount taken back"),
        (-500, "No-show"),
    ]

    client.force_login(seller)
    page = client.get(reverse("accounts:dashboard")).content.decode()
    assert "Debits and disputes" in page
    assert "-$54.00" in page
    assert "won: given back" in page


def test_the_sales_totals_show_what_disputes_kept(client):
    seller = ContractorFactory()
    payment, dispute = disputed_payment(seller)
    common = {"dispute": dispute, "payment": payment, "due_at": None}
    DisputeAction.objects.create(
        kind="reverse_transfer", amount=5_400, status="succeeded", **common
    )
    DisputeAction.objects.create(kind="return_funds", amount=1_000, status="succeeded", **common)
    DisputeAction.objects.create(kind="reverse_transfer", amount=999, status="canceled", **common)
    fee = ContractorDebit.objects.create(
        contractor=seller, amount=1_500, currency="usd", reason="fee", method="account_debit"
    )
    ContractorDebit.objects.filter(pk=fee.pk).update(status="succeeded")
    dispute.debits.add(fee)
    ContractorDebit.objects.create(  # not a dispute's: not counted here
        contractor=seller, amount=500, currency="usd", reason="No-show", method="account_debit"
    )

    [usd] = selectors.earning_list(contractor=seller)

    assert usd["disputed"] == -(5_400 - 1_000 + 1_500)
    client.force_login(seller)
    assert "-$59.00" in client.get(reverse("accounts:dashboard")).content.decode()


def test_a_debit_of_two_disputes_counts_once_and_withheld_money_counts():
    from payments.models import Transfer

    seller = ContractorFactory()
    payment, dispute = disputed_payment(seller)
    _, other = disputed_payment(seller, "again")
    debit = ContractorDebit.objects.create(
        contractor=seller, amount=1_000, currency="usd", reason="x", method="account_debit"
    )
    ContractorDebit.objects.filter(pk=debit.pk).update(status="succeeded")
    dispute.debits.add(debit)
    other.debits.add(debit)
    Transfer.objects.create(
        payment=payment,
        amount=0,
        withheld=5_400,
        status="withheld",
        currency="usd",
        destination_account="acct_x",
        transfer_group="checkout-lines",
        source_charge="ch_lines",
    )

    totals = {row["currency"]: row["disputed"] for row in selectors.earning_list(contractor=seller)}

    assert totals == {"usd": -(1_000 + 5_400)}
