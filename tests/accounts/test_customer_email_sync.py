"""A buyer's new email address reaches their Stripe Customer (the sandbox, through the
real gateway) as an outbox row: sent once the change commits, retried while Stripe is
down, never lost when the broker is, and the latest address always wins."""

from unittest import mock

import pytest
from django.urls import reverse

from accounts.models import CustomerEmailSync, User
from core import outbox
from payments import dispatch, gateway
from payments.services.customers import (
    buyer_customer_ensure,
    customer_email_sync,
    customer_email_sync_request,
)
from stripe_sandbox.testing import run_sandbox
from tests.accounts.conftest import emails_to, link_in
from tests.factories import PASSWORD, BuyerFactory, ContractorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


@pytest.fixture(scope="module")
def sandbox_server():
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server, settings):
    sandbox_server.reset()
    settings.STRIPE_API_BASE = sandbox_server.base_url
    settings.STRIPE_SECRET_KEY = sandbox_server.secret_key
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    gateway.reset_client()
    yield sandbox_server
    gateway.reset_client()


def email_at_stripe(sandbox, user) -> str:
    customer = User.objects.get(pk=user.pk).profile.stripe_id
    return sandbox.client().v1.customers.retrieve(customer).email


def change_email(client, committed, new_email: str) -> None:
    committed(
        client.post,
        reverse("accounts:email_change"),
        {"new_email": new_email, "password": PASSWORD},
    )
    committed(client.post, link_in(emails_to(new_email)[0]))


def test_a_changed_address_reaches_the_customer(client, committed, sandbox):
    buyer = BuyerFactory(email="old@example.com")
    buyer_customer_ensure(user_id=buyer.pk)
    assert email_at_stripe(sandbox, buyer) == "old@example.com"
    client.force_login(buyer)

    change_email(client, committed, "new@example.com")

    assert email_at_stripe(sandbox, buyer) == "new@example.com"
    (sync,) = CustomerEmailSync.objects.all()
    assert (sync.email, sync.status) == ("new@example.com", CustomerEmailSync.Status.DONE)
    updates = sandbox.control("GET", "/_sandbox/requests")["requests"]
    keys = [r["headers"].get("Idempotency-Key", "") for r in updates if r["method"] == "POST"]
    assert any(key.endswith(f"customer-email-{sync.pk}") for key in keys)


def test_no_customer_no_row(client, committed, sandbox):
    """Without a Customer yet, the one made later gets the address of that moment."""
    buyer = BuyerFactory(email="fresh@example.com")
    client.force_login(buyer)
    change_email(client, committed, "fresh2@example.com")
    assert not CustomerEmailSync.objects.exists()
    buyer_customer_ensure(user_id=buyer.pk)
    assert email_at_stripe(sandbox, buyer) == "fresh2@example.com"


def test_contractors_have_no_customer_to_update(sandbox):
    contractor = ContractorFactory(profile__stripe_id="acct_1EmailSyncTest")
    assert customer_email_sync_request(user_id=contractor.pk, email="c@example.com") is None


def test_a_broker_outage_delays_it_and_the_dispatcher_sends_it(
    sandbox, django_capture_on_commit_callbacks, celery_eager
):
    buyer = BuyerFactory(email="b1@example.com")
    buyer_customer_ensure(user_id=buyer.pk)
    with (
        mock.patch(
            "payments.tasks.customer_email_sync_task.delay", side_effect=OSError("broker down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sync = customer_email_sync_request(user_id=buyer.pk, email="b2@example.com")
    sync.refresh_from_db()
    assert sync.status == CustomerEmailSync.Status.PENDING  # kept, not lost
    assert email_at_stripe(sandbox, buyer) == "b1@example.com"

    CustomerEmailSync.objects.filter(pk=sync.pk).update(due_at=sync.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        handed = dispatch.dispatch_overdue()

    assert handed["customer emails"] == 1
    sync.refresh_from_db()
    assert sync.status == CustomerEmailSync.Status.DONE
    assert email_at_stripe(sandbox, buyer) == "b2@example.com"


def test_stripe_down_retries_with_the_same_key(sandbox, celery_eager):
    buyer = BuyerFactory(email="s1@example.com")
    buyer_customer_ensure(user_id=buyer.pk)
    sync = CustomerEmailSync.objects.create(
        user=buyer,
        customer=User.objects.get(pk=buyer.pk).profile.stripe_id,
        email="s2@example.com",
        **outbox.first_dispatch(),
    )
    sandbox.control(
        "POST", "/_sandbox/faults", {"method": "POST", "path": "/v1/customers/*", "kind": "500"}
    )
    from payments.tasks import customer_email_sync_task

    assert customer_email_sync_task(sync.pk) == "retrying"
    sync.refresh_from_db()
    assert sync.status == CustomerEmailSync.Status.PENDING
    assert customer_email_sync_task(sync.pk) == CustomerEmailSync.Status.DONE
    assert email_at_stripe(sandbox, buyer) == "s2@example.com"
    assert customer_email_sync(sync_id=sync.pk) == CustomerEmailSync.Status.DONE  # once


def test_the_latest_address_wins_whatever_the_order(sandbox):
    buyer = BuyerFactory(email="o1@example.com")
    customer = buyer_customer_ensure(user_id=buyer.pk)
    first = CustomerEmailSync.objects.create(user=buyer, customer=customer, email="o2@x.test")
    second = CustomerEmailSync.objects.create(user=buyer, customer=customer, email="o3@x.test")

    assert customer_email_sync(sync_id=second.pk) == CustomerEmailSync.Status.DONE
    assert customer_email_sync(sync_id=first.pk) == CustomerEmailSync.Status.SUPERSEDED
    assert email_at_stripe(sandbox, buyer) == "o3@x.test"


def test_a_customer_stripe_no_longer_has_is_marked_failed(sandbox):
    buyer = BuyerFactory(email="g1@example.com")
    customer = buyer_customer_ensure(user_id=buyer.pk)
    sandbox.client().v1.customers.delete(customer)
    sync = CustomerEmailSync.objects.create(user=buyer, customer=customer, email="g2@x.test")

    assert customer_email_sync(sync_id=sync.pk) == CustomerEmailSync.Status.FAILED
    sync.refresh_from_db()
    assert "No such customer" in sync.last_error
