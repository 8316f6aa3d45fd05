"""Admin actions: capture, cancel, replay, and debits through the debit service."""

from unittest import mock

import pytest
from django.urls import reverse

from payments.models import ContractorDebit, Payment, StripeEvent
from tests.factories import ContractorFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_action(client, django_capture_on_commit_callbacks):
    def post(client, model, action, ids):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse(f"admin:{model}_changelist"), {"action": action, "_selected_action": ids}
            )

    return post


def test_capture_action_enqueues_only_authorised_payments(client, staff_user, post_action):
    authorised = PaymentFactory(status=Payment.Status.AUTHORIZED, amount_authorized=2500)
    pending = PaymentFactory()
    client.force_login(staff_user)
    with mock.patch("payments.tasks.payment_capture_task.delay") as delay:
        response = post_action(
            client, "payments_payment", "capture_action", [authorised.pk, pending.pk]
        )
    assert response.status_code == 302
    delay.assert_called_once_with(authorised.pk)


def test_order_cancel_action_releases_the_authorisation(client, staff_user, post_action):
    authorised = PaymentFactory(status=Payment.Status.AUTHORIZED, amount_authorized=2500)
    client.force_login(staff_user)
    with mock.patch("payments.tasks.payment_cancel_task.delay") as delay:
        post_action(client, "shop_order", "cancel_action", [authorised.order_id])
    delay.assert_called_once_with(authorised.pk)
    authorised.refresh_from_db()
    assert (authorised.action, authorised.action_reason) == ("cancel", "requested_by_customer")
    assert authorised.due_at is not None  # the dispatcher's, should the message be lost


def test_replay_re_runs_processing(client, staff_user, post_action):
    event = StripeEvent.objects.create(
        stripe_id="evt_r",
        type="payment_intent.succeeded",
        endpoint="platform",
        payload={},
        status=StripeEvent.Status.PROCESSED,
    )
    client.force_login(staff_user)
    with mock.patch("payments.tasks.event_process_task.delay") as delay:
        post_action(client, "payments_stripeevent", "replay_action", [event.pk])
    delay.assert_called_once_with(event.pk, True)


def test_event_pages_are_read_only(client, staff_user):
    event = StripeEvent.objects.create(
        stripe_id="evt_ro", type="x", endpoint="platform", payload={"a": 1}
    )
    client.force_login(staff_user)
    url = reverse("admin:payments_stripeevent_change", args=[event.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"type": "changed"}).status_code == 403
    event.refresh_from_db()
    assert event.type == "x"


def test_debit_from_the_contractor_profile(client, staff_user, django_capture_on_commit_callbacks):
    seller = ContractorFactory(profile__stripe_id="acct_deb")
    client.force_login(staff_user)
    profile_page = client.get(
        reverse("admin:accounts_userprofile_change", args=[seller.profile.pk])
    ).content.decode()
    add_url = reverse("admin:payments_contractordebit_add") + f"?contractor={seller.pk}"
    assert add_url in profile_page.replace("&amp;", "&")

    form = client.get(add_url)
    assert form.context["form"].initial["contractor"] == str(seller.pk)
    with (
        mock.patch("payments.tasks.debit_execute_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            add_url,
            {
                "contractor": seller.pk,
                "amount": "15.00",
                "currency": "USD",
                "reason": "No-show on Monday",
            },
        )
    assert response.status_code == 302
    debit = ContractorDebit.objects.get()
    assert (debit.amount, debit.currency, debit.created_by) == (1500, "usd", staff_user)
    delay.assert_called_once_with(debit.pk)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"amount": "0"}, "positive"),
        ({"amount": "abc"}, "Enter an amount"),
        ({"reason": " "}, "This field is required"),
    ],
)
def test_bad_debits_show_errors_and_create_nothing(client, staff_user, data, error):
    seller = ContractorFactory(profile__stripe_id="acct_deb2")
    client.force_login(staff_user)
    post = {"contractor": seller.pk, "amount": "15.00", "currency": "usd", "reason": "x"}
    post.update(data)
    page = client.post(reverse("admin:payments_contractordebit_add"), post)
    assert page.status_code == 200
    assert error in page.content.decode()
    assert not ContractorDebit.objects.exists()
