""" "Pay out now" (payments/services/payouts.py): gated by the manual schedule and the
available balance, one payout for a double click, a row that survives a broker outage
and is sent by a task under its own idempotency key; and the schedule we keep."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import UserProfile
from notifications.models import Notification
from payments import dispatch, gateway, tasks
from payments.models import BalanceSnapshot, Payout, PayoutRequest, PayoutSchedule
from payments.services import payouts
from payments.services.connect import profile_apply_account
from tests.factories import ContractorFactory

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "acct_1PayoutNowTest00"


def broker_down(*args, **kwargs):
    raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def seller():
    return ContractorFactory(profile__stripe_id=ACCOUNT, profile__payouts_enabled=True)


def on_schedule(seller, interval="manual", **fields):
    return PayoutSchedule.objects.create(
        contractor=seller,
        account=ACCOUNT,
        interval=interval,
        delay_days=2,
        fetched_at=timezone.now(),
        **fields,
    )


class FakeStripe:
    """The gateway's balance and payout calls, recording what they were sent."""

    def __init__(self, available=7_470, refuse=None):
        self.available = available
        self.refuse = refuse
        self.payouts: list[dict] = []
        self.balance_reads = 0

    def balance_retrieve(self, *, account):
        assert account == ACCOUNT
        self.balance_reads += 1
        return {
            "available": [{"amount": self.available, "currency": "usd"}],
            "pending": [{"amount": 0, "currency": "usd"}],
        }

    def payout_create(self, **kwargs):
        if self.refuse:
            raise gateway.GatewayRejected(self.refuse, code="balance_insufficient", status=400)
        if kwargs["idempotency_key"] in {p["idempotency_key"] for p in self.payouts}:
            # Stripe replays the first result of a key: no second payout.
            return self.result(
                next(p for p in self.payouts if p["idempotency_key"] == kwargs["idempotency_key"])
            )
        self.payouts.append(kwargs)
        self.available -= kwargs["amount"]
        return self.result(kwargs)

    def result(self, sent):
        return {
            "id": f"po_{sent['request_id']}",
            "object": "payout",
            "amount": sent["amount"],
            "currency": sent["currency"],
            "status": "pending",
            "automatic": False,
            "arrival_date": int((timezone.now() + timedelta(days=2)).timestamp()),
            "destination": "ba_1",
            "failure_code": None,
            "failure_message": None,
        }


@pytest.fixture
def stripe(monkeypatch):
    fake = FakeStripe()
    monkeypatch.setattr(gateway, "balance_retrieve", fake.balance_retrieve)
    monkeypatch.setattr(gateway, "payout_create", fake.payout_create)
    return fake


def test_pay_out_now_sends_the_whole_available_balance_once(seller, stripe, celery_eager):
    on_schedule(seller)

    request, created = payouts.payout_now_request(user_id=seller.pk, currency="usd")

    assert created
    request.refresh_from_db()
    assert request.status == PayoutRequest.Status.SENT
    assert stripe.payouts == [
        {
            "account": ACCOUNT,
            "amount": 7_470,
            "currency": "usd",
            "request_id": request.pk,
            "idempotency_key": f"payout-request-{request.pk}",
        }
    ]
    assert request.stripe_payout_id == f"po_{request.pk}"
    payout = Payout.objects.get()
    assert (payout.contractor, payout.amount, payout.automatic) == (seller, 7_470, False)


def test_a_double_click_makes_one_payout(seller, stripe):
    on_schedule(seller)
    with mock.patch.object(tasks.payout_request_execute_task, "delay") as publish:
        first, made_first = payouts.payout_now_request(user_id=seller.pk, currency="usd")
        second, made_second = payouts.payout_now_request(user_id=seller.pk, currency="usd")
    assert (made_first, made_second) == (True, False)
    assert first.pk == second.pk
    assert PayoutRequest.objects.count() == 1
    publish.assert_called_once_with(first.pk)

    # Run twice (a message handed out again): one payout, under the row's key.
    tasks.payout_request_execute_task(first.pk)
    tasks.payout_request_execute_task(first.pk)
    assert len(stripe.payouts) == 1


def test_a_click_after_the_payout_left_finds_nothing_more_to_pay(seller, stripe, celery_eager):
    on_schedule(seller)
    payouts.payout_now_request(user_id=seller.pk, currency="usd")
    # Stripe is unreachable now: the balance we read last still shows the money.
    stripe.balance_retrieve = mock.Mock(side_effect=gateway.GatewayUnavailable("down"))
    with (
        mock.patch.object(gateway, "balance_retrieve", stripe.balance_retrieve),
        pytest.raises(payouts.PayoutNotAllowed, match="no available USD balance"),
    ):
        payouts.payout_now_request(user_id=seller.pk, currency="usd")
    assert len(stripe.payouts) == 1


def test_a_broker_outage_delays_the_payout_and_never_loses_it(seller, stripe):
    on_schedule(seller)
    with mock.patch.object(tasks.payout_request_execute_task, "delay", side_effect=broker_down):
        request, created = payouts.payout_now_request(user_id=seller.pk, currency="usd")
    assert created
    request.refresh_from_db()
    assert (request.status, request.dispatches) == (PayoutRequest.Status.REQUESTED, 1)
    assert stripe.payouts == []

    # The dispatcher hands it out once its lease is over.
    PayoutRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    with mock.patch.object(tasks.payout_request_execute_task, "delay") as publish:
        handed = dispatch.dispatch_overdue()
    assert handed["payout requests"] == 1
    publish.assert_called_once_with(request.pk)
    tasks.payout_request_execute_task(request.pk)
    request.refresh_from_db()
    assert request.status == PayoutRequest.Status.SENT
    assert [p["amount"] for p in stripe.payouts] == [7_470]


def test_stripe_unreachable_leaves_the_request_to_retry(seller, stripe, monkeypatch):
    on_schedule(seller)
    with mock.patch.object(tasks.payout_request_execute_task, "delay"):
        request, _ = payouts.payout_now_request(user_id=seller.pk, currency="usd")
    monkeypatch.setattr(
        gateway, "payout_create", mock.Mock(side_effect=gateway.GatewayUnavailable("down"))
    )
    assert tasks.payout_request_execute_task(request.pk) == "retrying"
    request.refresh_from_db()
    assert request.status == PayoutRequest.Status.REQUESTED
    assert request.due_at > timezone.now()


def test_stripe_refusing_it_marks_it_refused_with_the_reason(seller, stripe, celery_eager):
    on_schedule(seller)
    stripe.refuse = "You have insufficient funds in your Stripe account."
    request, _ = payouts.payout_now_request(user_id=seller.pk, currency="usd")
    request.refresh_from_db()
    assert request.status == PayoutRequest.Status.REFUSED
    assert "insufficient funds" in request.failure_message
    told = Notification.objects.get(recipient=seller, kind="payout_request_refused")
    assert "could not be made" in told.subject
    assert "insufficient funds" in told.body_text
    # A refused request is closed: the contractor may ask again.
    stripe.refuse = None
    again, created = payouts.payout_now_request(user_id=seller.pk, currency="usd")
    assert created
    assert again.pk != request.pk


@pytest.mark.parametrize(
    ("interval", "enabled", "message"),
    [
        ("daily", True, "automatic"),
        (None, True, "automatic"),
        ("manual", False, "not enabled payouts"),
    ],
)
def test_only_a_manual_enabled_account_may_pay_out_now(seller, stripe, interval, enabled, message):
    if interval:
        on_schedule(seller, interval)
    seller.profile.payouts_enabled = enabled
    seller.profile.save()
    with pytest.raises(payouts.PayoutNotAllowed, match=message):
        payouts.payout_now_request(user_id=seller.pk, currency="usd")
    assert not PayoutRequest.objects.exists()
    assert stripe.balance_reads == 0


def test_nothing_available_is_nothing_to_pay(seller, stripe):
    on_schedule(seller)
    stripe.available = 0
    with pytest.raises(payouts.PayoutNotAllowed, match="no available USD balance"):
        payouts.payout_now_request(user_id=seller.pk, currency="usd")
    assert not PayoutRequest.objects.exists()


def test_spendable_leaves_out_requests_stripe_has_not_taken_yet(seller):
    snapshot = BalanceSnapshot.objects.create(
        contractor=seller,
        account=ACCOUNT,
        currency="usd",
        available_amount=10_000,
        pending_amount=0,
        fetched_at=timezone.now() - timedelta(minutes=1),
    )
    PayoutRequest.objects.create(
        contractor=seller,
        account=ACCOUNT,
        amount=3_000,
        currency="usd",
        status=PayoutRequest.Status.SENT,
        sent_at=timezone.now(),  # after the balance was read: not in it yet
    )
    PayoutRequest.objects.create(
        contractor=seller,
        account=ACCOUNT,
        amount=5_000,
        currency="usd",
        status=PayoutRequest.Status.SENT,
        sent_at=snapshot.fetched_at - timedelta(minutes=1),  # already in it
    )
    assert payouts.payout_spendable(account=ACCOUNT, currency="usd") == 7_000


def test_the_schedule_is_kept_from_account_updates(seller):
    profile_apply_account(
        {
            "id": ACCOUNT,
            "charges_enabled": True,
            "payouts_enabled": True,
            "settings": {
                "payouts": {
                    "schedule": {"interval": "weekly", "weekly_anchor": "friday", "delay_days": 7}
                }
            },
        }
    )
    schedule = PayoutSchedule.objects.get(account=ACCOUNT)
    assert (
        schedule.contractor,
        schedule.interval,
        schedule.weekly_anchor,
        schedule.delay_days,
    ) == (
        seller,
        "weekly",
        "friday",
        7,
    )
    # An account object without settings (an older snapshot) leaves it alone.
    profile_apply_account({"id": ACCOUNT, "charges_enabled": True})
    assert PayoutSchedule.objects.get(account=ACCOUNT).interval == "weekly"


def test_the_outlook_refresh_reads_schedule_and_pending_money_at_a_bounded_rate(
    seller, stripe, monkeypatch
):
    account = mock.Mock(
        return_value={
            "id": ACCOUNT,
            "settings": {"payouts": {"schedule": {"interval": "daily", "delay_days": 2}}},
        }
    )
    pending = mock.Mock(
        return_value=[
            {"currency": "usd", "net": 1_000, "available_on": 1_800_000_000, "status": "pending"},
            {"currency": "usd", "net": 250, "available_on": 1_800_000_000, "status": "pending"},
            {"currency": "eur", "net": 900, "available_on": 1_800_086_400, "status": "pending"},
        ]
    )
    monkeypatch.setattr(gateway, "account_retrieve", account)
    monkeypatch.setattr(gateway, "balance_pending_list", pending)

    schedule = payouts.payout_outlook_refresh(user_id=seller.pk)
    assert schedule.interval == "daily"
    assert schedule.pending_funds == [
        {"currency": "usd", "available_on": 1_800_000_000, "amount": 1_250},
        {"currency": "eur", "available_on": 1_800_086_400, "amount": 900},
    ]
    assert BalanceSnapshot.objects.get(account=ACCOUNT).available_amount == 7_470

    payouts.payout_outlook_refresh(user_id=seller.pk)  # within the window: no new read
    assert (account.call_count, pending.call_count) == (1, 1)
    account.assert_called_with(account=ACCOUNT)
    pending.assert_called_with(account=ACCOUNT)


def test_the_outlook_refresh_brings_the_whole_account_up_to_date(seller, stripe, monkeypatch):
    """Not only the schedule: a contractor whose payouts Stripe enabled again can use
    "Pay out now" after "Refresh payouts"."""
    UserProfile.objects.filter(user=seller).update(payouts_enabled=False)
    monkeypatch.setattr(
        gateway,
        "account_retrieve",
        lambda **kw: {
            "id": ACCOUNT,
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
            "requirements": {"currently_due": []},
            "settings": {"payouts": {"schedule": {"interval": "manual"}}},
        },
    )
    monkeypatch.setattr(gateway, "balance_pending_list", lambda **kw: [])

    payouts.payout_outlook_refresh(user_id=seller.pk, force=True)

    assert UserProfile.objects.get(user=seller).payouts_enabled
    assert payouts.payout_now_request(user_id=seller.pk, currency="usd")[1]


def test_a_balance_read_stripe_refuses_still_asks_for_the_payout(seller, stripe, monkeypatch):
    """Before: a refused re-read escaped as a 500. Stripe checks the balance anyway
    when the payout is sent."""
    on_schedule(seller)
    BalanceSnapshot.objects.create(
        contractor=seller,
        account=ACCOUNT,
        currency="usd",
        available_amount=7_470,
        pending_amount=0,
        fetched_at=timezone.now(),
    )

    def refused(**kwargs):
        raise gateway.GatewayRejected("No such account", code="resource_missing", status=404)

    monkeypatch.setattr(gateway, "balance_retrieve", refused)
    request, created = payouts.payout_now_request(user_id=seller.pk, currency="usd")
    assert (created, request.amount) == (True, 7_470)
