"""manage.py payments_health: exit 1 on stranded money work, for cron or a monitor."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from payments.dispatch import LAST_DISPATCH_KEY
from payments.models import (
    ContractorDebit,
    Payment,
    Payout,
    Refund,
    StripeEvent,
    Transfer,
    TransferReversal,
)
from shop.models import Order
from tests.factories import OrderFactory, PaymentFactory, RefundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dispatcher_ran():
    """Beat's dispatcher ran a moment ago, as on a healthy deployment."""
    cache.set(LAST_DISPATCH_KEY, time.time(), None)
    yield
    cache.delete(LAST_DISPATCH_KEY)


def long_ago():
    """Ten minutes before now (now: the test's, not the module's import time)."""
    return timezone.now() - timedelta(minutes=10)


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


@pytest.mark.parametrize("last_run", [None, 61])
def test_a_silent_dispatcher_is_reported(capsys, last_run):
    if last_run is None:
        cache.delete(LAST_DISPATCH_KEY)  # beat never ran
    else:
        cache.set(LAST_DISPATCH_KEY, time.time() - last_run, None)

    code, output = run(capsys)

    assert code == 1
    assert "!! outbox_dispatcher_late = 1" in output


def stuck_event():
    event = StripeEvent.objects.create(
        stripe_id="evt_stuck", type="payment_intent.succeeded", endpoint="platform", payload={}
    )
    StripeEvent.objects.filter(pk=event.pk).update(received_at=long_ago())


def overdue_capture():
    order = OrderFactory(status=Order.Status.FULFILLED)
    PaymentFactory(order=order, status=Payment.Status.AUTHORIZED, action="capture")
    Order.objects.filter(pk=order.pk).update(updated_at=long_ago())


def overdue_cancellation():
    payment = PaymentFactory(status=Payment.Status.AUTHORIZED, action="cancel")
    Payment.objects.filter(pk=payment.pk).update(updated_at=long_ago())


def unsent_debit():
    order = OrderFactory()
    debit = ContractorDebit.objects.create(
        contractor=order.seller, amount=100, currency="usd", reason="x", method="account_debit"
    )
    ContractorDebit.objects.filter(pk=debit.pk).update(created_at=long_ago())


def unsent_transfer() -> Transfer:
    payment = PaymentFactory(status=Payment.Status.CAPTURED)
    transfer = Transfer.objects.create(
        payment=payment,
        amount=900,
        currency="usd",
        destination_account="acct_x",
        transfer_group="checkout_1",
        source_charge="ch_x",
    )
    Transfer.objects.filter(pk=transfer.pk).update(created_at=long_ago(), updated_at=long_ago())
    return transfer


def unsent_reversal():
    transfer = unsent_transfer()
    Transfer.objects.filter(pk=transfer.pk).update(status=Transfer.Status.SUCCEEDED)
    refund = RefundFactory(payment=transfer.payment)
    reversal = TransferReversal.objects.create(
        transfer=transfer, refund=refund, amount=100, currency="usd"
    )
    TransferReversal.objects.filter(pk=reversal.pk).update(created_at=long_ago())


def given_up_refund():
    """A refund the dispatcher stopped retrying (it is recent: only that is wrong)."""
    RefundFactory(payment=PaymentFactory(status=Payment.Status.CAPTURED), dispatches=25)


def unsent_refund():
    refund = RefundFactory(payment=PaymentFactory(status=Payment.Status.CAPTURED))
    Refund.objects.filter(pk=refund.pk).update(created_at=long_ago())


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
        (overdue_cancellation, "cancellations_overdue"),
        (unsent_refund, "refunds_unsent"),
        (unsent_debit, "debits_unsent"),
        (unsent_transfer, "transfers_unsent"),
        (unsent_reversal, "transfer_reversals_unsent"),
        (given_up_refund, "outbox_given_up"),
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


def test_events_in_another_api_version_are_named_and_exit_1(capsys):
    from payments.models import StripeEvent

    StripeEvent.objects.create(
        stripe_id="evt_old",
        type="payment_intent.succeeded",
        endpoint="connect",
        payload={"id": "evt_old", "api_version": "2024-06-20", "type": "payment_intent.succeeded"},
        status=StripeEvent.Status.PROCESSED,
    )

    code, output = run(capsys)

    assert code == 1
    assert "1 events in API version 2024-06-20 from the connect endpoint" in output
    assert "webhook_api_version" in output
