"""Refund rules and the admin refund flow, with the gateway patched."""

import threading
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from payments import gateway
from payments.models import Dispute, Payment, Refund
from payments.services import refunds
from shop.models import Order
from tests.factories import PaymentFactory, StaffFactory

pytestmark = pytest.mark.django_db


def captured_payment(amount=10_000, fee=1030):
    payment = PaymentFactory(
        status=Payment.Status.CAPTURED,
        amount=amount,
        order__amount=amount,
        order__fee_amount=fee,
        application_fee_amount=fee,
        amount_authorized=amount,
        amount_captured=amount,
        stripe_charge_id="ch_1",
    )
    Order.objects.filter(pk=payment.order_id).update(status=Order.Status.CAPTURED)
    return payment


def stripe_refund(refund, status="succeeded", **fields):
    data = {
        "id": f"re_{refund.pk}",
        "object": "refund",
        "amount": refund.amount,
        "currency": refund.currency,
        "status": status,
        "payment_intent": refund.payment.stripe_payment_intent_id,
        "metadata": {"refund_id": str(refund.pk)},
    }
    data.update(fields)
    return data


@pytest.fixture
def gw(monkeypatch):
    fake = mock.MagicMock()
    monkeypatch.setattr(gateway, "refund_create", fake.refund_create)
    monkeypatch.setattr(gateway, "refund_list", fake.refund_list)
    return fake


@pytest.mark.parametrize(
    ("amount", "message"),
    [(0, "more than zero"), (-100, "more than zero"), (10_001, r"At most \$100.00")],
)
def test_bad_amounts_are_refused_and_nothing_is_recorded(amount, message):
    payment = captured_payment()
    with pytest.raises(refunds.RefundError, match=message):
        refunds.refund_request(payment_id=payment.pk, amount=amount)
    assert not Refund.objects.exists()


def test_refunds_in_flight_count_against_what_is_left():
    payment = captured_payment()
    refunds.refund_request(payment_id=payment.pk, amount=6000)
    with pytest.raises(refunds.RefundError, match=r"At most \$40.00"):
        refunds.refund_request(payment_id=payment.pk, amount=4001)
    refunds.refund_request(payment_id=payment.pk, amount=4000)


def test_only_captured_payments_can_be_refunded():
    payment = PaymentFactory(status=Payment.Status.AUTHORIZED, amount_authorized=2500)
    with pytest.raises(refunds.RefundError, match="Only captured"):
        refunds.refund_request(payment_id=payment.pk, amount=100)


@pytest.mark.parametrize(
    ("status", "refundable", "refused"),
    [
        (Dispute.Status.NEEDS_RESPONSE, False, True),
        (Dispute.Status.LOST, False, True),
        (Dispute.Status.WARNING_NEEDS_RESPONSE, False, False),  # an inquiry a refund may settle
        # Stripe's own word after the dispute: a won one it lets be refunded is.
        (Dispute.Status.WON, True, False),
        (Dispute.Status.WON, False, True),
    ],
)
def test_a_charged_back_payment_is_refused_before_reaching_stripe(status, refundable, refused):
    payment = captured_payment()
    Dispute.objects.create(
        stripe_dispute_id="dp_1",
        stripe_charge_id="ch_1",
        payment=payment,
        order=payment.order,
        status=status,
        amount=10_000,
        currency="usd",
        is_charge_refundable=refundable,
    )
    if refused:
        with pytest.raises(refunds.RefundError, match="taken this payment back"):
            refunds.refund_request(payment_id=payment.pk, amount=100)
        assert not Refund.objects.exists()
    else:
        assert refunds.refund_request(payment_id=payment.pk, amount=100).amount == 100


def test_execute_sends_once_with_the_refund_key_and_policy(gw, settings):
    settings.REFUND_REVERSE_TRANSFER = True
    settings.REFUND_APPLICATION_FEE = False
    payment = captured_payment()
    refund = refunds.refund_request(payment_id=payment.pk, amount=2500, reason="duplicate")
    gw.refund_create.return_value = stripe_refund(refund)

    refunds.refund_execute(refund_id=refund.pk)
    refunds.refund_execute(refund_id=refund.pk)  # a retried task

    gw.refund_create.assert_called_once_with(
        payment_intent=payment.stripe_payment_intent_id,
        amount=2500,
        reason="duplicate",
        reverse_transfer=True,
        refund_application_fee=False,
        refund_id=refund.pk,
        idempotency_key=f"refund-{refund.pk}",
    )
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id) == ("succeeded", f"re_{refund.pk}")
    assert payment.amount_refunded == 2500
    assert payment.order.status == Order.Status.PARTIALLY_REFUNDED


def test_full_refund_makes_the_order_refunded_and_late_events_change_nothing(gw):
    payment = captured_payment()
    refund = refunds.refund_request(payment_id=payment.pk, amount=10_000)
    gw.refund_create.return_value = stripe_refund(refund, status="pending")
    refunds.refund_execute(refund_id=refund.pk)
    refunds.refund_apply(stripe_refund(refund, status="succeeded"))
    refunds.refund_apply(stripe_refund(refund, status="pending"))  # late
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == "succeeded"
    assert payment.amount_refunded == 10_000
    assert payment.order.status == Order.Status.REFUNDED


def test_stripe_refusal_marks_the_refund_failed_and_frees_the_amount(gw):
    payment = captured_payment()
    refund = refunds.refund_request(payment_id=payment.pk, amount=10_000)
    gw.refund_create.side_effect = gateway.GatewayRejected("Charge already refunded.")
    refunds.refund_execute(refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == "failed"
    assert "already refunded" in refund.failure_reason
    assert refunds.refundable_amount(payment) == 10_000


def test_dashboard_refund_is_recorded_once_however_often_it_arrives(gw):
    payment = captured_payment()
    outside = {
        "id": "re_dash",
        "object": "refund",
        "amount": 1500,
        "currency": "usd",
        "status": "succeeded",
        "payment_intent": payment.stripe_payment_intent_id,
        "metadata": {},
    }
    gw.refund_list.return_value = [outside]
    for _ in range(3):
        refunds.refund_apply(outside)
        refunds.refunds_sync_for_charge({"payment_intent": payment.stripe_payment_intent_id})
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.amount, refund.requested_by) == ("re_dash", 1500, None)
    payment.refresh_from_db()
    assert payment.amount_refunded == 1500


@pytest.mark.django_db(transaction=True)
def test_two_staff_refunding_at_once_never_exceed_the_capture():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite locks the whole file)")
    payment = captured_payment()
    results = []
    barrier = threading.Barrier(2)

    def click():
        barrier.wait()
        try:
            refunds.refund_request(payment_id=payment.pk, amount=7000)
            results.append("ok")
        except refunds.RefundError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok", "refused"]
    assert Refund.objects.count() == 1


# --- Admin -------------------------------------------------------------------------


def refund_page(payment):
    return reverse("admin:payments_payment_refund", args=[payment.pk])


def test_admin_refund_form_defaults_to_everything_refundable(client, staff_user):
    payment = captured_payment()
    client.force_login(staff_user)
    page = client.get(refund_page(payment))
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["amount"] == "100.00"
    assert form.initial["reverse_transfer"] is True


def test_admin_partial_refund_request(client, staff_user, django_capture_on_commit_callbacks):
    payment = captured_payment()
    client.force_login(staff_user)
    with (
        mock.patch("payments.tasks.refund_execute_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            refund_page(payment),
            {
                "amount": "25.50",
                "reason": "requested_by_customer",
                "note": "Late delivery",
                "reverse_transfer": "on",
            },
        )
    assert response.status_code == 302
    refund = Refund.objects.get()
    delay.assert_called_once_with(refund.pk)
    assert (refund.amount, refund.requested_by, refund.note) == (2550, staff_user, "Late delivery")
    assert refund.reverse_transfer
    assert not refund.refund_application_fee


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("0", "more than zero"),
        ("-5", "Enter an amount"),
        ("100.01", "At most $100.00"),
        ("1.234", "at most 2 decimal places"),
        ("abc", "Enter an amount"),
    ],
)
def test_admin_refund_bad_amounts_show_errors(client, staff_user, amount, error):
    payment = captured_payment()
    client.force_login(staff_user)
    with mock.patch("payments.tasks.refund_execute_task.delay") as delay:
        page = client.post(refund_page(payment), {"amount": amount})
    assert page.status_code == 200
    assert any(error in e for e in page.context["form"].errors["amount"])
    assert not Refund.objects.exists()
    delay.assert_not_called()


def test_staff_without_the_refund_permission_sees_no_refund_action(client):
    clerk = StaffFactory(is_superuser=False)
    clerk.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_payment", "change_payment", "view_order", "change_order"]
        )
    )
    payment = captured_payment()
    client.force_login(clerk)

    changelist = client.get(reverse("admin:payments_payment_changelist"))
    actions = [name for name, _ in changelist.context["action_form"].fields["action"].choices]
    assert "refund_action" not in actions
    assert "capture_action" in actions
    order_page = client.get(reverse("admin:shop_order_change", args=[payment.order_id]))
    assert "Refund…" not in order_page.content.decode()
    assert client.get(refund_page(payment)).status_code == 403


def test_order_admin_refund_action_redirects_to_the_form(client, staff_user):
    payment = captured_payment()
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:shop_order_changelist"),
        {"action": "refund_action", "_selected_action": [payment.order_id]},
    )
    assert response.status_code == 302
    assert response.url == refund_page(payment)


def test_order_admin_search_by_stripe_id_and_filters(client, staff_user):
    payment = captured_payment()
    other = captured_payment()
    client.force_login(staff_user)
    page = client.get(
        reverse("admin:shop_order_changelist"), {"q": payment.stripe_payment_intent_id}
    )
    assert list(page.context["cl"].result_list) == [payment.order]
    page = client.get(reverse("admin:shop_order_changelist"), {"seller": other.order.seller_id})
    assert list(page.context["cl"].result_list) == [other.order]
    page = client.get(reverse("admin:shop_order_changelist"), {"flagged": "yes"})
    assert list(page.context["cl"].result_list) == []
