"""Staff: POST /api/refunds/, with the admin's rules (payments.add_refund, refund_request)."""

import uuid
from unittest import mock

import pytest
from django.contrib.auth.models import Permission

from payments.models import Payment, Refund
from shop.models import Order
from tests.api.conftest import client_for
from tests.factories import ContractorFactory, PaymentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

REFUNDS = "/api/refunds/"


def captured_order(amount=10_000):
    payment = PaymentFactory(
        status=Payment.Status.CAPTURED,
        amount=amount,
        order__amount=amount,
        order__fee_amount=1030,
        order__status=Order.Status.CAPTURED,
        application_fee_amount=1030,
        amount_authorized=amount,
        amount_captured=amount,
    )
    return payment.order


@pytest.fixture
def refunder(db):
    """Staff with only the refund permission (not a superuser)."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_refund"))
    return user


def test_staff_with_the_permission_refund_part_of_an_order(
    settings, refunder, django_capture_on_commit_callbacks
):
    settings.REFUND_REVERSE_TRANSFER = True
    settings.REFUND_APPLICATION_FEE = False
    order = captured_order()

    with (
        mock.patch("payments.tasks.refund_execute_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(refunder).post(
            REFUNDS,
            {"order": str(order.public_id), "amount": 2550, "reason": "requested_by_customer"},
            format="json",
        )

    assert response.status_code == 201
    refund = Refund.objects.get()
    assert response.json() == {
        "id": refund.pk,
        "order": str(order.public_id),
        "status": "requested",
        "status_display": "Requested",
        "amount": 2550,
        "currency": "usd",
        "amount_display": "$25.50",
        "reason": "requested_by_customer",
        "note": "",
        "reverse_transfer": True,  # the platform's policy, as in admin
        "refund_application_fee": False,
        "created_at": refund.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert refund.requested_by == refunder
    delay.assert_called_once_with(refund.pk)


def test_staff_may_override_the_policy_and_leave_a_note(staff_user):
    order = captured_order()

    with mock.patch("payments.tasks.refund_execute_task.delay"):
        response = client_for(staff_user).post(
            REFUNDS,
            {
                "order": str(order.public_id),
                "amount": 10_000,
                "note": "Contractor did not show up.",
                "reverse_transfer": False,
                "refund_application_fee": True,
            },
            format="json",
        )

    assert response.status_code == 201
    refund = Refund.objects.get()
    assert (refund.reverse_transfer, refund.refund_application_fee) == (False, True)
    assert refund.note == "Contractor did not show up."


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (10_001, "At most $100.00 can still be refunded."),
        (6_000, "At most $40.00 can still be refunded."),  # after the first 6,000
    ],
)
def test_refunds_above_what_is_left_are_400_refund_invalid(staff_user, amount, message):
    order = captured_order()
    client = client_for(staff_user)
    body = {"order": str(order.public_id), "amount": 6_000}
    with mock.patch("payments.tasks.refund_execute_task.delay"):
        if amount == 6_000:
            assert client.post(REFUNDS, body, format="json").status_code == 201

        response = client.post(REFUNDS, {**body, "amount": amount}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "refund_invalid", "message": message, "fields": {}}
    }


def test_only_captured_payments_can_be_refunded(staff_user):
    payment = PaymentFactory(status=Payment.Status.AUTHORIZED)

    response = client_for(staff_user).post(
        REFUNDS, {"order": str(payment.order.public_id), "amount": 100}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Only captured payments can be refunded."
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"order": "not-a-uuid", "amount": 0}, {"order", "amount"}),
        ({"order": str(uuid.uuid4()), "amount": 100}, {"order"}),
        ({"amount": 100, "reason": "because"}, {"order", "reason"}),
        ({"order": str(uuid.uuid4()), "amount": "1.50"}, {"amount"}),
    ],
)
def test_malformed_refunds_are_400_with_field_errors(staff_user, body, fields):
    response = client_for(staff_user).post(REFUNDS, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()["error"]["fields"]) == fields


def test_nobody_else_may_refund(anon, buyer, seller):
    order = captured_order()
    body = {"order": str(order.public_id), "amount": 100}
    staff_without_permission = StaffFactory(is_superuser=False)

    assert anon.post(REFUNDS, body, format="json").status_code == 401
    for user in (buyer, seller, ContractorFactory(), staff_without_permission):
        response = client_for(user).post(REFUNDS, body, format="json")
        assert response.status_code == 403
        assert response.json()["error"] == {
            "code": "permission_denied",
            "message": "You are not allowed to refund payments.",
            "fields": {},
        }
    assert not Refund.objects.exists()


def test_refunds_are_throttled(settings, staff_user):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "refunds": "1/min",
        },
    }
    order = captured_order()
    client = client_for(staff_user)
    body = {"order": str(order.public_id), "amount": 100}

    with mock.patch("payments.tasks.refund_execute_task.delay"):
        assert client.post(REFUNDS, body, format="json").status_code == 201
        assert client.post(REFUNDS, body, format="json").status_code == 429
    assert Refund.objects.count() == 1
