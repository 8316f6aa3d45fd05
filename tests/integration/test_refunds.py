"""Staff refund in admin, end to end: the admin form, a Celery worker calling the
sandbox, webhooks confirming, and the money checked to the cent on both sides."""

import pytest
from django.urls import reverse

from accounts.models import UserProfile
from payments.models import Payment, Refund
from tests.factories import StaffFactory
from tests.integration.conftest import wait_for
from tests.integration.flows import captured_order, connected_balance, onboarded_contractor

pytestmark = [pytest.mark.sandbox, pytest.mark.celery_worker]


@pytest.fixture
def fees(settings):
    settings.PLATFORM_FEE_BPS = 1000
    settings.PLATFORM_FEE_FIXED = 30


def total(balance):
    pending, available = balance
    return pending + available


def application_fee(sandbox, payment):
    fees = sandbox.client().v1.application_fees.list({"limit": 100}).to_dict()["data"]
    return next(f for f in fees if f["charge"] == payment.stripe_charge_id)


def refund_in_admin(client, payment, amount, **flags):
    data = {"amount": amount, "reason": "requested_by_customer"}
    data.update({name: "on" for name, on in flags.items() if on})
    response = client.post(reverse("admin:payments_payment_refund", args=[payment.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_partial_then_full_refund_with_reversal_and_fee_refund(live_stack, fees, client):
    seller = onboarded_contractor(live_stack, "refunds@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    payment = captured_order(live_stack, seller, 10_000)  # fee 1,030; contractor 8,970
    assert total(connected_balance(account)) == 8970
    client.force_login(StaffFactory())

    refund_in_admin(client, payment, "25.00", reverse_transfer=True, refund_application_fee=True)
    wait_for(lambda: Refund.objects.filter(status="succeeded").count() == 1, what="refund")
    wait_for(
        lambda: Payment.objects.get(pk=payment.pk).order.status == "partially_refunded",
        what="order partially refunded",
    )
    # 2,500 reversed from the contractor, 258 of the fee (2,500 × 1,030 / 10,000,
    # rounded half-up) given back to them: their balance drops by 2,242.
    assert total(connected_balance(account)) == 8970 - 2500 + 258
    assert application_fee(live_stack, payment)["amount_refunded"] == 258

    refund_in_admin(client, payment, "75.00", reverse_transfer=True, refund_application_fee=True)
    wait_for(
        lambda: Payment.objects.get(pk=payment.pk).order.status == "refunded",
        what="order refunded",
    )
    payment.refresh_from_db()
    assert payment.amount_refunded == 10_000
    assert total(connected_balance(account)) == 0
    assert application_fee(live_stack, payment)["amount_refunded"] == 1030
    refunds = Refund.objects.filter(payment=payment)
    assert sorted(r.amount for r in refunds) == [2500, 7500]
    assert all(r.stripe_refund_id.startswith("re_") for r in refunds)


def test_refund_without_fee_refund_keeps_the_platform_fee(live_stack, fees, client):
    seller = onboarded_contractor(live_stack, "keepfee@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    payment = captured_order(live_stack, seller, 10_000)
    client.force_login(StaffFactory())

    refund_in_admin(client, payment, "100.00", reverse_transfer=True)
    wait_for(
        lambda: Payment.objects.get(pk=payment.pk).order.status == "refunded",
        what="order refunded",
    )
    assert total(connected_balance(account)) == 8970 - 10_000  # the contractor bears the fee
    assert application_fee(live_stack, payment)["amount_refunded"] == 0


def test_over_refund_is_refused_and_nothing_reaches_stripe(live_stack, client):
    seller = onboarded_contractor(live_stack, "over@example.com")
    payment = captured_order(live_stack, seller, 5000)
    client.force_login(StaffFactory())
    page = client.post(
        reverse("admin:payments_payment_refund", args=[payment.pk]), {"amount": "50.01"}
    )
    assert page.status_code == 200
    assert "At most $50.00 can still be refunded." in page.content.decode()
    assert not Refund.objects.exists()
    listed = live_stack.client().v1.refunds.list(
        {"payment_intent": payment.stripe_payment_intent_id}
    )
    assert listed.data == []


def test_refund_made_in_stripes_dashboard_is_recorded_once(live_stack):
    seller = onboarded_contractor(live_stack, "dashboard@example.com")
    payment = captured_order(live_stack, seller, 4000)

    live_stack.client().v1.refunds.create(
        {"payment_intent": payment.stripe_payment_intent_id, "amount": 1000}
    )

    wait_for(lambda: Refund.objects.filter(payment=payment).exists(), what="dashboard refund")
    wait_for(
        lambda: Payment.objects.get(pk=payment.pk).amount_refunded == 1000,
        what="payment totals",
    )
    # refund.created, charge.refunded and charge.refund.updated all name it; one row.
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.requested_by, refund.status) == (1000, None, "succeeded")
    assert Payment.objects.get(pk=payment.pk).order.status == "partially_refunded"
