"""The Stripe boundary: exact parameters out, our own exceptions back."""

from unittest import mock

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured

from payments import gateway
from payments.checks import stripe_api_version_check
from payments.gateway.keys import attempt_keys
from payments.installation import Installation
from payments.models import Payment


class FakeStripeObject(dict):
    def to_dict(self):
        return dict(self)


@pytest.fixture
def fake_client(monkeypatch, settings):
    # Keys as our rows make them; the prefix has tests of its own below.
    settings.STRIPE_IDEMPOTENCY_PREFIX = ""
    client = mock.MagicMock()
    monkeypatch.setattr(gateway, "client", lambda: client)
    return client


def test_payment_intent_create_is_a_manual_destination_charge(fake_client):
    fake_client.v1.payment_intents.create.return_value = FakeStripeObject(id="pi_1")

    result = gateway.payment_intent_create(
        amount=5000,
        currency="usd",
        customer="cus_1",
        destination="acct_1",
        application_fee_amount=530,
        order_id=7,
        order_public_id="abc",
        idempotency_key="payment-3-intent",
    )

    assert result == {"id": "pi_1"}
    fake_client.v1.payment_intents.create.assert_called_once_with(
        {
            "amount": 5000,
            "currency": "usd",
            "customer": "cus_1",
            "capture_method": "manual",
            "allowed_payment_method_types": ["card"],
            "application_fee_amount": 530,
            "transfer_data": {"destination": "acct_1"},
            "metadata": {"order_id": "7", "order_public_id": "abc"},
            "description": "Order abc",
        },
        {"idempotency_key": "payment-3-intent"},
    )


def test_every_write_needs_an_idempotency_key(fake_client):
    with pytest.raises(ValueError, match="idempotency key"):
        gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="")
    fake_client.v1.payment_intents.capture.assert_not_called()


def test_connect_reads_pass_the_account(fake_client):
    fake_client.v1.balance.retrieve.return_value = FakeStripeObject(object="balance")
    gateway.balance_retrieve(account="acct_9")
    fake_client.v1.balance.retrieve.assert_called_once_with(None, {"stripe_account": "acct_9"})


def test_refund_create_parameters(fake_client):
    fake_client.v1.refunds.create.return_value = FakeStripeObject(id="re_1")
    gateway.refund_create(
        payment_intent="pi_1",
        amount=100,
        reason="requested_by_customer",
        reverse_transfer=True,
        refund_application_fee=False,
        refund_id=4,
        idempotency_key="refund-4",
    )
    fake_client.v1.refunds.create.assert_called_once_with(
        {
            "payment_intent": "pi_1",
            "amount": 100,
            "reverse_transfer": True,
            "refund_application_fee": False,
            "metadata": {"refund_id": "4"},
            "reason": "requested_by_customer",
        },
        {"idempotency_key": "refund-4"},
    )


def card_error(code, decline_code=None):
    body = {"error": {"type": "card_error", "code": code, "message": "Stripe's words"}}
    if decline_code:
        body["error"]["decline_code"] = decline_code
    return stripe.CardError("Stripe's words", None, code, http_status=402, json_body=body)


@pytest.mark.parametrize(
    ("code", "decline_code", "message"),
    [
        ("card_declined", "generic_decline", "Your card was declined."),
        ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
        ("expired_card", None, "This card has expired."),
        ("incorrect_cvc", None, "The security code is incorrect."),
    ],
)
def test_card_errors_become_card_declined_with_our_message(
    fake_client, code, decline_code, message
):
    fake_client.v1.payment_intents.capture.side_effect = card_error(code, decline_code)
    with pytest.raises(gateway.CardDeclined) as caught:
        gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="k")
    assert caught.value.code == code
    assert caught.value.user_message == message


@pytest.mark.parametrize(
    "error",
    [
        stripe.APIConnectionError("no route"),
        stripe.RateLimitError("slow down", http_status=429),
        stripe.APIError("boom", http_status=500),
    ],
)
def test_outages_become_gateway_unavailable(fake_client, error):
    fake_client.v1.payment_intents.retrieve.side_effect = error
    with pytest.raises(gateway.GatewayUnavailable) as caught:
        gateway.payment_intent_retrieve(payment_intent="pi_1")
    assert caught.value.user_message == "Payment service is unreachable, please retry."


def test_invalid_requests_become_gateway_rejected(fake_client):
    body = {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "intent",
            "message": "No such payment_intent: 'pi_x'",
        }
    }
    fake_client.v1.payment_intents.retrieve.side_effect = stripe.InvalidRequestError(
        "No such payment_intent: 'pi_x'",
        "intent",
        "resource_missing",
        http_status=404,
        json_body=body,
    )
    with pytest.raises(gateway.GatewayRejected) as caught:
        gateway.payment_intent_retrieve(payment_intent="pi_x")
    assert caught.value.code == "resource_missing"
    assert caught.value.http_status == 404
    assert "No such payment_intent" in str(caught.value)


def test_client_points_at_the_sandbox_when_configured(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    gateway.reset_client()
    try:
        client = gateway.client()
        assert client._requestor.base_addresses["api"] == "http://127.0.0.1:9"
        assert client._requestor._options.stripe_version == settings.STRIPE_API_VERSION
    finally:
        gateway.reset_client()


def test_every_call_presents_itself_as_payments_gateway():
    """The gateway is filed in several modules; callers (and bench/checkout.py's
    timer) find every call as `payments.gateway.<name>`."""
    for call in gateway.CALLS:
        assert call.__module__ == "payments.gateway"
        assert getattr(gateway, call.__name__) is call


# --- idempotency keys -----------------------------------------------------------------


def test_keys_carry_the_install_prefix(fake_client, settings):
    settings.STRIPE_IDEMPOTENCY_PREFIX = "shop-a"
    fake_client.v1.payment_intents.capture.return_value = FakeStripeObject(id="pi_1")
    gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="payment-1-capture")
    options = fake_client.v1.payment_intents.capture.call_args.args[2]
    assert options == {"idempotency_key": "shop-a:payment-1-capture"}


@pytest.mark.django_db
def test_the_default_prefix_is_the_database_identity(settings):
    settings.STRIPE_IDEMPOTENCY_PREFIX = None
    database = settings.DATABASES["default"]
    prefix = gateway.keys.install_prefix()
    install_id = str(Installation.objects.get().install_id)
    assert prefix == gateway.keys.database_prefix(database, install_id)
    assert len(prefix) == 12
    assert (
        gateway.keys.database_prefix({**database, "NAME": "another-install"}, install_id) != prefix
    )
    assert gateway.keys.database_prefix({**database, "HOST": "another-host"}, install_id) != prefix


@pytest.mark.django_db
def test_the_default_prefix_is_stable_per_install_and_differs_between_installs(settings):
    """Before: a hash of the database settings alone, so two installs with the same
    settings (two `db.sqlite3`, one DATABASE_URL on two servers) shared keys. Now the
    install id kept in the database tells them apart, and another process (the cache
    forgotten) of the same install reads the same id."""
    settings.STRIPE_IDEMPOTENCY_PREFIX = None
    first = gateway.keys.install_prefix()
    gateway.keys.install_prefix.cache_clear()  # another process of this install
    assert gateway.keys.install_prefix() == first
    assert Installation.objects.count() == 1

    Installation.objects.all().delete()  # another install, same database settings
    gateway.keys.install_prefix.cache_clear()
    assert gateway.keys.install_prefix() != first


def test_a_cancel_key_names_its_reason(fake_client):
    """`payment-N-cancel` is sent with two reasons (staff, expiry): one key each, or
    Stripe answers the second with idempotency_error."""
    fake_client.v1.payment_intents.cancel.return_value = FakeStripeObject(id="pi_1")
    for reason in ("requested_by_customer", "abandoned"):
        gateway.payment_intent_cancel(
            payment_intent="pi_1", idempotency_key="payment-1-cancel", reason=reason
        )
    keys = [
        c.args[2]["idempotency_key"] for c in fake_client.v1.payment_intents.cancel.call_args_list
    ]
    assert keys == ["payment-1-cancel-requested_by_customer", "payment-1-cancel-abandoned"]
    with pytest.raises(ValueError, match="idempotency key"):
        gateway.payment_intent_cancel(payment_intent="pi_1", idempotency_key="", reason="duplicate")


# --- partial capture --------------------------------------------------------------------


def test_a_partial_capture_must_name_its_fee(fake_client):
    with pytest.raises(ValueError, match="application_fee_amount"):
        gateway.payment_intent_capture(
            payment_intent="pi_1", idempotency_key="k", amount_to_capture=3000
        )
    fake_client.v1.payment_intents.capture.assert_not_called()


def test_a_partial_capture_sends_its_own_fee(fake_client):
    fake_client.v1.payment_intents.capture.return_value = FakeStripeObject(id="pi_1")
    gateway.payment_intent_capture(
        payment_intent="pi_1",
        idempotency_key="k",
        amount_to_capture=3000,
        application_fee_amount=330,
    )
    params = fake_client.v1.payment_intents.capture.call_args.args[1]
    assert params == {"amount_to_capture": 3000, "application_fee_amount": 330}


# --- 500s Stripe stored for a key ------------------------------------------------------------


def server_error(*, replayed: bool) -> stripe.APIError:
    headers = {"Stripe-Should-Retry": "false"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    body = {"error": {"type": "api_error", "message": "boom"}}
    return stripe.APIError("boom", None, 500, body, headers)


def capture_keys(fake_client) -> list[str]:
    calls = fake_client.v1.payment_intents.capture.call_args_list
    return [c.args[2]["idempotency_key"] for c in calls]


def test_a_fresh_500_is_checked_then_raised_for_the_task_to_back_off(fake_client):
    fake_client.v1.payment_intents.capture.side_effect = server_error(replayed=False)
    fake_client.v1.payment_intents.retrieve.return_value = FakeStripeObject(
        id="pi_1", status="requires_capture"
    )
    with pytest.raises(gateway.GatewayUnavailable):
        gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="payment-1-capture")
    assert capture_keys(fake_client) == ["payment-1-capture"]
    fake_client.v1.payment_intents.retrieve.assert_called_once()


def test_a_500_after_which_the_write_shows_is_a_success(fake_client):
    fake_client.v1.payment_intents.capture.side_effect = server_error(replayed=False)
    fake_client.v1.payment_intents.retrieve.return_value = FakeStripeObject(
        id="pi_1", status="succeeded"
    )
    intent = gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="k")
    assert intent["status"] == "succeeded"


def test_a_replayed_500_with_nothing_written_moves_to_the_next_key(fake_client):
    """Before: the same key forever, so the same 500 forever (for 24 hours)."""
    fake_client.v1.payment_intents.capture.side_effect = [
        server_error(replayed=True),
        FakeStripeObject(id="pi_1", status="succeeded"),
    ]
    fake_client.v1.payment_intents.retrieve.return_value = FakeStripeObject(
        id="pi_1", status="requires_capture"
    )
    intent = gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="k")
    assert intent["status"] == "succeeded"
    assert capture_keys(fake_client) == ["k", "k/retry-1"]


def test_stored_500s_never_run_out_of_keys(fake_client):
    """Before: five keys (`k`, `k/retry-1` … `k/retry-4`), then the write was stuck
    for a day. Now each key proven to have written nothing leads to the next."""
    fake_client.v1.payment_intents.capture.side_effect = [server_error(replayed=True)] * 7 + [
        FakeStripeObject(id="pi_1", status="succeeded")
    ]
    fake_client.v1.payment_intents.retrieve.return_value = FakeStripeObject(
        id="pi_1", status="requires_capture"
    )
    intent = gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="k")
    assert intent["status"] == "succeeded"
    assert capture_keys(fake_client) == ["k"] + [f"k/retry-{n}" for n in range(1, 8)]


def test_the_new_key_follows_the_rows_dispatch_count(fake_client):
    """A row handed out for the 9th time: after the stored 500 of its first key the
    write goes on with `/retry-9`, the key of this hand-out, whichever worker runs it."""
    fake_client.v1.payment_intents.capture.side_effect = [
        server_error(replayed=True),
        FakeStripeObject(id="pi_1", status="succeeded"),
    ]
    fake_client.v1.payment_intents.retrieve.return_value = FakeStripeObject(
        id="pi_1", status="requires_capture"
    )
    with gateway.keys.dispatched(9):
        gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="payment-1-capture")
    assert capture_keys(fake_client) == ["payment-1-capture", "payment-1-capture/retry-9"]


def test_a_fresh_500_on_a_dispatch_key_waits_for_the_next_hand_out(fake_client):
    fake_client.v1.payment_intents.capture.side_effect = [
        server_error(replayed=True),
        server_error(replayed=False),
    ]
    fake_client.v1.payment_intents.retrieve.return_value = FakeStripeObject(
        id="pi_1", status="requires_capture"
    )
    with gateway.keys.dispatched(3), pytest.raises(gateway.GatewayUnavailable):
        gateway.payment_intent_capture(payment_intent="pi_1", idempotency_key="k")
    assert capture_keys(fake_client) == ["k", "k/retry-3"]


def test_no_answer_at_all_keeps_the_key(fake_client):
    """A connection error stores nothing at Stripe: the same key is right next time."""
    fake_client.v1.refunds.create.side_effect = stripe.APIConnectionError("no route")
    with pytest.raises(gateway.GatewayUnavailable):
        gateway.refund_create(
            payment_intent="pi_1",
            amount=100,
            reason="",
            reverse_transfer=True,
            refund_application_fee=False,
            refund_id=4,
            idempotency_key="refund-4",
        )
    fake_client.v1.refunds.list.assert_not_called()


def test_a_refund_that_went_through_is_found_by_our_row_id(fake_client):
    fake_client.v1.refunds.create.side_effect = server_error(replayed=True)
    fake_client.v1.refunds.list.return_value = FakeStripeObject(
        data=[
            {"id": "re_other", "metadata": {"refund_id": "3"}},
            {"id": "re_ours", "metadata": {"refund_id": "4"}},
        ]
    )
    refund = gateway.refund_create(
        payment_intent="pi_1",
        amount=100,
        reason="",
        reverse_transfer=True,
        refund_application_fee=False,
        refund_id=4,
        idempotency_key="refund-4",
    )
    assert refund["id"] == "re_ours"
    assert fake_client.v1.refunds.create.call_count == 1


# --- the API version -----------------------------------------------------------------------


def test_the_pin_is_the_version_the_sdk_describes():
    """The requests are typed against the installed SDK: move both together."""
    assert stripe.api_version == gateway.PINNED_API_VERSION


@pytest.mark.parametrize(
    ("version", "refused"),
    [
        ("2026-10-28.endive", False),
        ("2027-01-01.fig", False),
        ("2023-08-16", True),  # lacks allowed_payment_method_types
        ("2026-10-28.preview", True),
        ("latest", True),
        ("", True),
    ],
)
def test_versions_older_than_the_pin_are_refused(version, refused):
    assert (gateway.api_version_problem(version) is not None) is refused


def test_the_client_refuses_an_older_version(settings):
    settings.STRIPE_API_VERSION = "2022-11-15"
    gateway.reset_client()
    try:
        with pytest.raises(ImproperlyConfigured, match="older than"):
            gateway.client()
    finally:
        settings.STRIPE_API_VERSION = gateway.PINNED_API_VERSION
        gateway.reset_client()


def test_start_up_checks_refuse_an_older_version_and_warn_of_a_newer(settings):
    settings.STRIPE_API_VERSION = "2024-06-20"
    assert [m.id for m in stripe_api_version_check()] == ["payments.E002"]
    settings.STRIPE_API_VERSION = "2027-01-01.fig"
    assert [m.id for m in stripe_api_version_check()] == ["payments.W001"]
    settings.STRIPE_API_VERSION = gateway.PINNED_API_VERSION
    assert stripe_api_version_check() == []


@pytest.mark.django_db
def test_a_task_runs_its_rows_work_with_the_rows_dispatch_count():
    from payments.tasks import _run
    from tests.factories import PaymentFactory

    payment = PaymentFactory(dispatches=6)
    assert _run("capture", Payment, payment.pk, lambda: list(attempt_keys("k"))[1]) == "k/retry-6"
    # Outside a row's work, the series starts from 1.
    assert list(attempt_keys("k"))[1] == "k/retry-1"
