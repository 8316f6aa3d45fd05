"""Reconciliation against the sandbox: clean after a day of trading, exact after a
refund made behind the shop's back."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import UserProfile
from payments.models import ContractorDebit, Refund
from payments.services.debits import debit_create
from payments.services.intents import payment_cancel, payment_intent_ensure
from payments.services.reconcile import reconcile
from payments.services.refunds import refund_request
from shop.services import checkout_create
from tests.factories import BuyerFactory, ProductFactory, StaffFactory
from tests.integration.conftest import wait_for
from tests.integration.flows import (
    browser_confirms,
    captured_order,
    onboarded_contractor,
    order_status,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.celery_worker]


def authorised_order(sandbox, seller, price):
    product = ProductFactory(seller=seller, price_amount=price)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(product.pk, 1)])
    payment = product.orderitem_set.get().order.payments.get()
    assert payment.order.checkout_id == checkout_id
    payment_intent_ensure(payment_id=payment.pk)
    browser_confirms(sandbox, payment, "pm_card_visa")
    wait_for(lambda: order_status(payment.order_id) == "authorized", what="authorisation")
    return payment


def test_a_day_of_trading_reconciles_then_a_hidden_refund_is_reported(live_stack, client, tmp_path):
    alice = onboarded_contractor(live_stack, "rec-alice@example.com")
    bob = onboarded_contractor(live_stack, "rec-bob@example.com")
    staff = StaffFactory()

    paid = captured_order(live_stack, alice, 12_000)
    refunded = captured_order(live_stack, bob, 8000)
    reversed_sale = captured_order(live_stack, alice, 5000)
    authorised_order(live_stack, bob, 3000)  # waiting for fulfilment
    canceled = authorised_order(live_stack, alice, 2000)
    payment_cancel(payment_id=canceled.pk)
    refund_request(payment_id=refunded.pk, amount=3000, requested_by_id=staff.pk)
    debit_create(
        contractor_id=bob.pk, amount=700, currency="usd", reason="No-show", created_by_id=staff.pk
    )
    debit_create(
        contractor_id=alice.pk,
        amount=1000,
        currency="usd",
        reason="Damaged",
        created_by_id=staff.pk,
        order_id=reversed_sale.order_id,
    )
    wait_for(lambda: Refund.objects.filter(status="succeeded").count() == 1, what="refund")
    wait_for(lambda: ContractorDebit.objects.filter(status="succeeded").count() == 2, what="debits")
    wait_for(lambda: order_status(canceled.order_id) == "canceled", what="cancellation")

    assert reconcile() == []
    call_command("reconcile")  # exit status 0: no SystemExit

    # Behind the shop's back: webhooks off, a refund made directly at Stripe.
    live_stack.control("POST", "/_sandbox/webhooks", {"forward_url": ""})
    try:
        hidden = live_stack.client().v1.refunds.create(
            {"payment_intent": paid.stripe_payment_intent_id, "amount": 1234}
        )
    finally:
        live_stack.control(
            "POST",
            "/_sandbox/webhooks",
            {
                "forward_url": live_stack.sandbox.config.forward_connect_url.replace(
                    "/connect/", "/stripe/"
                )
            },
        )

    mismatches = reconcile()
    assert {(m.kind, m.stripe_id, m.field, m.our_value, m.stripe_value) for m in mismatches} == {
        ("refund", hidden.id, "exists", "no", "1234 usd succeeded"),
        ("payment", paid.stripe_payment_intent_id, "amount_refunded", "0", "1234"),
    }
    report = tmp_path / "mismatches.csv"
    with pytest.raises(SystemExit) as exit_status:
        call_command("reconcile", csv=str(report))
    assert exit_status.value.code == 1
    assert hidden.id in report.read_text()

    client.force_login(staff)
    page = client.get(reverse("payments_reconcile"))
    assert page.status_code == 200
    assert "2 mismatches" in page.content.decode()
    export = client.get(reverse("payments_reconcile"), {"format": "csv"})
    assert export["Content-Type"] == "text/csv"
    assert hidden.id in export.content.decode()
    assert UserProfile.objects.get(user=bob).stripe_id  # bob's debit went to his account
