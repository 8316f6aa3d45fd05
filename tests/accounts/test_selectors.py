"""The contractor's reads (dashboard and API) see only the contractor's own rows."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import selectors
from payments.models import BalanceSnapshot, ContractorDebit, Payment, Payout
from shop.models import Order
from tests.factories import ContractorFactory, OrderFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(db):
    return ContractorFactory(profile__stripe_id="acct_sel", profile__charges_enabled=True)


def captured(seller, amount, fee, currency="usd", refunded=0, transfer=""):
    order = OrderFactory(
        seller=seller, amount=amount, fee_amount=fee, currency=currency, status="captured"
    )
    return PaymentFactory(
        order=order,
        currency=currency,
        status=Payment.Status.CAPTURED,
        amount_captured=amount,
        amount_refunded=refunded,
        stripe_transfer_id=transfer,
    )


def test_earnings_per_currency_with_fees_net_and_refunds(seller):
    captured(seller, 2500, 280)
    captured(seller, 1000, 130, refunded=400)
    captured(seller, 5000, 500, currency="eur")
    captured(ContractorFactory(), 9900, 990)  # another contractor's
    OrderFactory(seller=seller, status=Order.Status.AUTHORIZED)  # not paid yet

    rows = sorted(selectors.earning_list(contractor=seller), key=lambda r: r["currency"])

    common = {"disputed": 0}  # no disputes (tests/accounts/test_dispute_lines.py)
    assert rows == [
        {"currency": "eur", "gross": 5000, "fees": 500, "count": 1, "net": 4500, "refunded": 0}
        | common,
        {"currency": "usd", "gross": 3500, "fees": 410, "count": 2, "net": 3090, "refunded": 400}
        | common,
    ]


def test_sales_attention_counts_awaiting_and_flagged(seller):
    OrderFactory(seller=seller, status=Order.Status.AUTHORIZED)
    OrderFactory(seller=seller, status=Order.Status.AUTHORIZED, flagged=True)
    OrderFactory(seller=seller, flagged=True)
    OrderFactory(status=Order.Status.AUTHORIZED)  # another contractor's

    attention = selectors.sales_attention_get(contractor=seller)

    assert (attention.awaiting, attention.flagged) == (2, 2)


def test_recent_lists_are_the_contractors_own_newest_ten(seller):
    other = ContractorFactory()
    transfers = [captured(seller, 1000, 100, transfer=f"tr_{n}") for n in range(12)]
    captured(seller, 1000, 100)  # no transfer yet
    captured(other, 1000, 100, transfer="tr_other")
    for n in range(3):
        Payout.objects.create(
            stripe_id=f"po_{n}", contractor=seller, account="acct_sel", amount=100, currency="usd"
        )
    Payout.objects.create(
        stripe_id="po_other", contractor=other, account="acct_o", amount=100, currency="usd"
    )
    ContractorDebit.objects.create(
        contractor=seller, amount=500, currency="usd", reason="No-show", method="account_debit"
    )

    listed = list(selectors.transfer_list(contractor=seller))
    assert [p.stripe_transfer_id for p in listed] == [
        p.stripe_transfer_id for p in reversed(transfers)
    ][:10]
    assert [p.stripe_id for p in selectors.payout_list(contractor=seller)] == [
        "po_2",
        "po_1",
        "po_0",
    ]
    assert [d.reason for d in selectors.debit_list(contractor=seller)] == ["No-show"]


def test_the_dashboard_shows_the_selectors_reads(client, seller):
    captured(seller, 2500, 280, transfer="tr_dash")
    OrderFactory(seller=seller, status=Order.Status.AUTHORIZED, flagged=True)
    BalanceSnapshot.objects.create(
        contractor=seller,
        account="acct_sel",
        currency="usd",
        available_amount=700,
        pending_amount=0,
        fetched_at=timezone.now(),
    )
    client.force_login(seller)

    response = client.get(reverse("accounts:dashboard"))

    context = response.context
    assert [b.available_amount for b in context["balances"]] == [700]
    assert [t["net"] for t in context["totals"]] == [2220]
    assert [p.stripe_transfer_id for p in context["transfers"]] == ["tr_dash"]
    assert (context["awaiting"], context["flagged"]) == (1, 1)
    page = response.content.decode()
    assert "1 order awaiting fulfilment" in page
    assert "tr_dash" in page
