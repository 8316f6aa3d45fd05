"""manage.py payments_health: exit 1 on stranded money work, for cron or a monitor."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from payments.models import Payment, Payout, Refund, StripeEvent
from shop.models import Order
from tests.factories import OrderFactory, PaymentFactory, RefundFactory

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - timedelta(minutes=10)


def run(capsys):
    try:
        call_command("payments_health")
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out + out.err


def test_nothing_stranded_exits_0(capsys):
    OrderFactory(status=Order.Status.FULFILLED)  # fulfilled a moment ago: in progress

    code, output = run(capsys)

    assert code == 0
    assert "Nothing is stranded." in output


def stuck_event():
    event = StripeEvent.objects.create(
        stripe_id="evt_stuck", type="payment_intent.succeeded", endpoint="platform", payload={}
    )
    StripeEvent.objects.filter(pk=event.pk).update(received_at=LONG_AGO)


def overdue_capture():
    order = OrderFactory(status=Order.Status.FULFILLED)
    Order.objects.filter(pk=order.pk).update(updated_at=LONG_AGO)


def unsent_refund():
    refund = RefundFactory(payment=PaymentFactory(status=Payment.Status.CAPTURED))
    Refund.objects.filter(pk=refund.pk).update(created_at=LONG_AGO)


def expiring_authorisation():
    PaymentFactory(
        status=Payment.Status.AUTHORIZED, capture_before=timezone.now() + timedelta(hours=2)
    )


def failed_payout():
    order = OrderFactory()
    Payout.objects.create(
        stripe_id="po_failed",
        contractor=order.seller,
        account="acct_x",
        amount=100,
        currency="usd",
        status="failed",
    )


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (stuck_event, "webhook_events_unprocessed"),
        (overdue_capture, "captures_overdue"),
        (unsent_refund, "refunds_unsent"),
        (expiring_authorisation, "authorisations_expiring"),
        (failed_payout, "payouts_failed_recent"),
    ],
)
def test_each_kind_of_stranded_work_exits_1_and_is_named(capsys, make, name):
    make()

    code, output = run(capsys)

    assert code == 1
    assert f"!! {name} = 1" in output
    assert f"Needs attention: {name}" in output


def test_the_oldest_unprocessed_event_age_is_reported(capsys):
    stuck_event()

    _, output = run(capsys)

    age = float(output.split("webhook_oldest_unprocessed_seconds = ")[1].split()[0])
    assert 590 < age < 700
