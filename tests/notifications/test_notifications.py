"""Every money event tells the right people once, by email and in the app."""

import smtplib
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.urls import reverse

from notifications.models import Notification
from payments import gateway
from payments.models import ContractorDebit, Payment
from payments.services import connect, debits, intents, refunds
from shop.models import Order
from tests.factories import (
    BuyerFactory,
    ContractorFactory,
    PaymentFactory,
    StaffFactory,
    payment_intent_snapshot,
)
from tests.payments.webhook_helpers import event, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_tasks(celery_eager, django_capture_on_commit_callbacks):
    """Run what a service schedules on commit, tasks inline."""

    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return run


def snapshot(payment, status, **fields):
    return payment_intent_snapshot(payment, status, **{"latest_charge": "ch_n", **fields})


def sent_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def test_authorised_order_sends_a_receipt_and_a_new_order_notice(run_tasks):
    payment = PaymentFactory(
        order__amount=123456, amount=123456, order__fee_amount=12376, application_fee_amount=12376
    )
    order = payment.order

    run_tasks(intents.payment_apply_intent, snapshot(payment, "requires_capture"))

    (receipt,) = sent_to(order.buyer.email)
    assert "is confirmed" in receipt.subject
    assert "$1,234.56" in receipt.body
    assert receipt.alternatives
    assert "$1,234.56" in receipt.alternatives[0][0]
    (notice,) = sent_to(order.seller.email)
    assert notice.subject.startswith("New order")
    assert "$1,110.80" in notice.body  # what the contractor will get: amount − fee


def test_zero_decimal_amounts_are_formatted_right(run_tasks):
    payment = PaymentFactory(
        currency="jpy",
        order__currency="jpy",
        order__amount=1500,
        amount=1500,
        order__fee_amount=150,
        application_fee_amount=150,
    )
    run_tasks(intents.payment_apply_intent, snapshot(payment, "requires_capture"))
    assert "¥1,500" in sent_to(payment.order.buyer.email)[0].body


def test_capture_cancel_and_expiry_messages(run_tasks):
    captured = PaymentFactory(status=Payment.Status.AUTHORIZED, amount_authorized=2500)
    Order.objects.filter(pk=captured.order_id).update(status="fulfilled")
    run_tasks(intents.payment_apply_intent, snapshot(captured, "succeeded"))
    assert "charged" in sent_to(captured.order.buyer.email)[0].subject
    assert "You were paid" in sent_to(captured.order.seller.email)[0].subject

    expired = PaymentFactory(status=Payment.Status.AUTHORIZED, amount_authorized=2500)
    Order.objects.filter(pk=expired.order_id).update(status="authorized")
    run_tasks(
        intents.payment_apply_intent, snapshot(expired, "canceled", cancellation_reason="abandoned")
    )
    assert "expired" in sent_to(expired.order.buyer.email)[0].subject
    assert "expired unfulfilled" in sent_to(expired.order.seller.email)[0].subject


def test_each_decline_is_told_once(run_tasks):
    payment = PaymentFactory()
    first = snapshot(
        payment,
        "requires_payment_method",
        last_payment_error={"code": "card_declined", "charge": "ch_a"},
    )
    for _ in range(3):
        run_tasks(intents.payment_apply_intent, first)
    second = snapshot(
        payment,
        "requires_payment_method",
        last_payment_error={"code": "expired_card", "charge": "ch_b"},
    )
    run_tasks(intents.payment_apply_intent, second)
    failures = sent_to(payment.order.buyer.email)
    assert [m.body.count("did not go through") for m in failures] == [0, 0]
    assert [
        "Your card was declined." in failures[0].body,
        "This card has expired." in failures[1].body,
    ] == [True, True]


def test_triple_delivered_webhook_sends_one_email(client, settings, run_tasks):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_n"
    payment = PaymentFactory()
    body = event("payment_intent.amount_capturable_updated", snapshot(payment, "requires_capture"))
    for _ in range(3):
        run_tasks(post_event, client, reverse("payments:webhook_platform"), body, "whsec_n")
    assert len(sent_to(payment.order.buyer.email)) == 1
    assert len(sent_to(payment.order.seller.email)) == 1


def test_retried_email_task_sends_once(run_tasks):
    from notifications.tasks import notification_email_task

    payment = PaymentFactory()
    run_tasks(intents.payment_apply_intent, snapshot(payment, "requires_capture"))
    notification = Notification.objects.get(recipient=payment.order.buyer)
    notification_email_task.apply(args=[notification.pk])  # e.g. redelivered after a crash
    assert len(sent_to(payment.order.buyer.email)) == 1


def test_a_buyer_never_receives_another_buyers_message(run_tasks, client):
    mine = PaymentFactory()
    theirs = PaymentFactory()
    run_tasks(intents.payment_apply_intent, snapshot(mine, "requires_capture"))
    run_tasks(intents.payment_apply_intent, snapshot(theirs, "requires_capture"))
    for message in sent_to(mine.order.buyer.email):
        assert str(theirs.order.public_id)[:8] not in message.body
    client.force_login(mine.order.buyer)
    page = client.get(reverse("notifications:list")).content.decode()
    assert str(mine.order.public_id)[:8] in page
    assert str(theirs.order.public_id)[:8] not in page


def test_in_app_list_shows_an_unread_count_until_opened(run_tasks, client):
    payment = PaymentFactory()
    run_tasks(intents.payment_apply_intent, snapshot(payment, "requires_capture"))
    client.force_login(payment.order.buyer)
    assert client.get(reverse("shop:product_list")).context["unread_notifications"] == 1
    client.get(reverse("notifications:list"))
    assert client.get(reverse("shop:product_list")).context["unread_notifications"] == 0


def test_smtp_down_never_rolls_back_the_money_and_the_email_is_retried(
    django_capture_on_commit_callbacks,
):
    payment = PaymentFactory()
    with (
        mock.patch("notifications.tasks.notification_email_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        intents.payment_apply_intent(snapshot(payment, "requires_capture"))
    payment.refresh_from_db()
    assert payment.status == "authorized"  # committed whatever the mail server does
    notification_id = delay.call_args_list[0].args[0]

    from notifications.tasks import notification_email_task

    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send",
            side_effect=smtplib.SMTPServerDisconnected("down"),
        ),
        mock.patch.object(notification_email_task, "retry", side_effect=Retry()) as retry,
        pytest.raises(Retry),
    ):
        notification_email_task.run(notification_id)
    assert isinstance(retry.call_args.kwargs["exc"], smtplib.SMTPServerDisconnected)
    failed = Notification.objects.get(pk=notification_id)
    assert (failed.emailed_at, failed.email_attempts) == (None, 1)
    assert "down" in failed.last_error

    notification_email_task.apply(args=[notification_id])  # the retry, server back up
    assert len(mail.outbox) == 1
    assert Notification.objects.get(pk=notification_id).emailed_at is not None


def captured_payment(monkeypatch, status="succeeded"):
    payment = PaymentFactory(
        status=Payment.Status.CAPTURED, amount_authorized=2500, amount_captured=2500
    )
    Order.objects.filter(pk=payment.order_id).update(status="captured")
    monkeypatch.setattr(
        gateway,
        "refund_create",
        lambda **kw: {
            "id": "re_n",
            "amount": kw["amount"],
            "currency": "usd",
            "status": status,
            "payment_intent": kw["payment_intent"],
            "metadata": {"refund_id": str(kw["refund_id"])},
        },
    )
    return payment


def test_a_refund_is_told_once_to_the_buyer_and_once_to_the_contractor(run_tasks, monkeypatch):
    payment = captured_payment(monkeypatch)
    refund = run_tasks(refunds.refund_request, payment_id=payment.pk, amount=1000)
    # Stripe's webhooks about the same refund, delivered again and again.
    stripe_refund = {
        "id": "re_n",
        "amount": 1000,
        "currency": "usd",
        "status": "succeeded",
        "payment_intent": payment.stripe_payment_intent_id,
        "metadata": {"refund_id": str(refund.pk)},
    }
    for _ in range(2):
        run_tasks(refunds.refund_apply, stripe_refund)

    buyer, seller = payment.order.buyer, payment.order.seller
    assert [m.subject for m in sent_to(buyer.email)] == ["Refund of $10.00 confirmed"]
    assert [n.kind for n in buyer.notifications.all()] == ["refund_confirmed"]
    (to_seller,) = sent_to(seller.email)
    assert "Refund of $10.00 on order" in to_seller.subject
    assert seller.notifications.count() == 1


def test_a_refund_stripe_refuses_was_never_announced_to_the_buyer(run_tasks, monkeypatch):
    payment = captured_payment(monkeypatch, status="failed")

    run_tasks(refunds.refund_request, payment_id=payment.pk, amount=1000)

    assert payment.refunds.get().status == "failed"
    assert not payment.order.buyer.notifications.exists()
    assert not sent_to(payment.order.buyer.email)


def test_debit_payout_and_requirements_reach_the_contractor(run_tasks, monkeypatch):
    seller = ContractorFactory(
        profile__stripe_id="acct_n",
        profile__charges_enabled=True,
        profile__details_submitted=True,
    )
    monkeypatch.setattr(gateway, "account_debit_create", lambda **kw: {"id": "py_n"})
    debit = run_tasks(
        debits.debit_create,
        contractor_id=seller.pk,
        amount=700,
        currency="usd",
        reason="No-show on Monday",
        created_by_id=None,
    )
    run_tasks(debits.debit_execute, debit_id=debit.pk)
    assert ContractorDebit.objects.get().status == "succeeded"
    payout = {
        "id": "po_n",
        "amount": 5000,
        "currency": "usd",
        "status": "paid",
        "arrival_date": None,
    }
    for _ in range(2):
        run_tasks(connect.payout_apply, payout=payout, account="acct_n")
    run_tasks(
        connect.payout_apply,
        payout={**payout, "id": "po_f", "status": "failed", "failure_message": "Account closed"},
        account="acct_n",
    )
    run_tasks(
        connect.profile_apply_account,
        {
            "id": "acct_n",
            "charges_enabled": False,
            "details_submitted": True,
            "requirements": {"currently_due": ["individual.verification.document"]},
        },
    )
    subjects = [m.subject for m in sent_to(seller.email)]
    assert subjects == [
        "$7.00 debited from your account",
        "Payout of $50.00 sent",
        "Payout of $50.00 failed",
        "Your account is restricted",
    ]
    assert "Upload an identity document" in sent_to(seller.email)[-1].body


def test_dispute_tells_every_staff_member(client, settings, run_tasks):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_n"
    staff = [StaffFactory(), StaffFactory()]
    payment = PaymentFactory(stripe_charge_id="ch_disp")
    body = event(
        "charge.dispute.created", {"id": "dp_n", "charge": "ch_disp", "reason": "fraudulent"}
    )
    run_tasks(post_event, client, reverse("payments:webhook_platform"), body, "whsec_n")
    for member in staff:
        assert "Dispute opened" in sent_to(member.email)[0].subject
    # The buyer hears that their bank's dispute reached us; nobody else does.
    [to_buyer] = sent_to(payment.order.buyer.email)
    assert "Your bank disputed order" in to_buyer.subject
    assert BuyerFactory().notifications.count() == 0
