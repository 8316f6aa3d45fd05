"""The payouts on the contractor's dashboard: the schedule, the next expected payout and
its amount, "Pay out now" on a manual schedule, and past payouts, a failed one saying
why and what to do. The page reads our copies only; the buttons call Stripe (patched)."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.payout_outlook import describe, next_payout_day
from payments import gateway, tasks
from payments.models import BalanceSnapshot, Payout, PayoutRequest, PayoutSchedule
from tests.factories import BuyerFactory, ContractorFactory

pytestmark = pytest.mark.django_db

ACCOUNT = "acct_1PayoutDashboard0"


@pytest.fixture
def seller():
    return ContractorFactory(
        profile__stripe_id=ACCOUNT, profile__payouts_enabled=True, profile__charges_enabled=True
    )


@pytest.fixture
def no_stripe(monkeypatch):
    """Any Stripe call fails the test: the page reads our database only."""
    for name in ("account_retrieve", "balance_retrieve", "balance_pending_list", "payout_create"):
        monkeypatch.setattr(gateway, name, mock.Mock(side_effect=AssertionError(name)))


def balance(seller, available, currency="usd", pending=0):
    return BalanceSnapshot.objects.create(
        contractor=seller,
        account=ACCOUNT,
        currency=currency,
        available_amount=available,
        pending_amount=pending,
        fetched_at=timezone.now(),
    )


def schedule(seller, interval, **fields):
    return PayoutSchedule.objects.create(
        contractor=seller,
        account=ACCOUNT,
        interval=interval,
        delay_days=2,
        fetched_at=timezone.now(),
        **fields,
    )


def dashboard(client, seller) -> str:
    client.force_login(seller)
    response = client.get(reverse("accounts:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_an_automatic_schedule_shows_the_next_payout_and_its_amount(client, seller, no_stripe):
    tomorrow = next_payout_day(PayoutSchedule(interval="daily", account=ACCOUNT), timezone.now())
    balance(seller, 5_000, pending=2_600)
    schedule(
        seller,
        "daily",
        pending_funds=[
            # Available before tomorrow's payout: in it.
            {"currency": "usd", "amount": 1_000, "available_on": tomorrow.timestamp() - 3600},
            # Three days later: in a later payout.
            {"currency": "usd", "amount": 1_600, "available_on": tomorrow.timestamp() + 3 * 86400},
        ],
    )

    page = dashboard(client, seller)

    assert "Daily; money is paid out 2 days after each payment" in page
    assert f"Next payout, expected {tomorrow:%a %b} {tomorrow.day}" in page
    assert "$60.00" in page  # 5,000 available + 1,000 available by then
    assert "Pay out" not in page  # automatic: no button


def test_a_manual_schedule_offers_pay_out_now_per_currency(client, seller, no_stripe):
    schedule(seller, "manual")
    balance(seller, 7_470)
    balance(seller, 1_200, currency="eur")
    balance(seller, 0, currency="gbp", pending=500)

    page = dashboard(client, seller)

    assert "Manual: your balance stays with Stripe until you pay it out." in page
    assert "Pay out $74.70 now" in page
    assert "Pay out €12.00 now" in page
    assert page.count('name="currency"') == 2  # nothing available in GBP
    assert "Next payout, expected" not in page


def test_a_schedule_not_read_yet_says_so(client, seller, no_stripe):
    page = dashboard(client, seller)
    assert "Not known yet: refresh to read it from Stripe." in page
    assert "Refresh payouts" in page


def test_past_payouts_show_status_arrival_and_why_one_failed(client, seller, no_stripe):
    arrival = datetime(2026, 11, 27, tzinfo=UTC)
    for n, (status, code) in enumerate(
        [
            ("paid", ""),
            ("in_transit", ""),
            ("failed", "account_closed"),
            ("failed", "insufficient_funds"),
        ]
    ):
        Payout.objects.create(
            stripe_id=f"po_dash{n}",
            contractor=seller,
            account=ACCOUNT,
            amount=10_000 + n,
            currency="usd",
            status=status,
            arrival_date=arrival,
            failure_code=code,
            automatic=n != 1,
        )

    page = dashboard(client, seller)

    assert "Arrived Nov 27, 2026" in page
    assert "In transit" in page
    assert "Arrives Nov 27, 2026" in page
    assert "on request" in page  # the one "Pay out now" made
    assert "Your bank account has been closed." in page
    assert "Add a new bank account. The money is back in your balance." in page
    assert page.count(f'href="{reverse("accounts:onboarding")}">Update your bank details') == 1
    assert "Your Stripe balance was too low to cover the payout." in page


def test_pay_out_now_asks_once_for_a_double_click(
    client, seller, monkeypatch, django_capture_on_commit_callbacks
):
    schedule(seller, "manual")
    monkeypatch.setattr(
        gateway,
        "balance_retrieve",
        lambda account: {
            "available": [{"amount": 7_470, "currency": "usd"}],
            "pending": [],
        },
    )
    client.force_login(seller)
    with (
        mock.patch.object(tasks.payout_request_execute_task, "delay") as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = client.post(reverse("accounts:payout_now"), {"currency": "usd"}, follow=True)
        second = client.post(reverse("accounts:payout_now"), {"currency": "usd"}, follow=True)

    assert "Payout of $74.70 requested" in first.content.decode()
    assert "Your payout of $74.70 is already on its way." in second.content.decode()
    request = PayoutRequest.objects.get()
    assert (request.amount, request.currency, request.status) == (7_470, "usd", "requested")
    publish.assert_called_once_with(request.pk)
    # Until Stripe takes it, the page says it is on its way and offers no second one.
    page = second.content.decode()
    assert "A payout of $74.70 is on its way to Stripe." in page
    assert "Pay out $74.70 now" not in page
    assert "No available balance to pay out yet." in page


def test_pay_out_now_is_refused_on_an_automatic_schedule(client, seller, no_stripe):
    schedule(seller, "weekly", weekly_anchor="friday")
    client.force_login(seller)
    response = client.post(reverse("accounts:payout_now"), {"currency": "usd"}, follow=True)
    assert "Your payouts are automatic" in response.content.decode()
    assert not PayoutRequest.objects.exists()


@pytest.mark.parametrize("currency", ["", "US", "usdollars", "<b>"])
def test_pay_out_now_with_a_bad_currency_is_a_400(client, seller, no_stripe, currency):
    schedule(seller, "manual")
    client.force_login(seller)
    response = client.post(reverse("accounts:payout_now"), {"currency": currency})
    assert response.status_code == 400
    assert not PayoutRequest.objects.exists()


def test_payout_pages_are_for_contractors_and_take_posts_only(client, seller):
    client.force_login(BuyerFactory())
    assert client.post(reverse("accounts:payout_now"), {"currency": "usd"}).status_code == 403
    assert client.post(reverse("accounts:payouts_refresh")).status_code == 403
    client.force_login(seller)
    assert client.get(reverse("accounts:payout_now")).status_code == 405


def test_refresh_reads_the_schedule_from_stripe(client, seller, monkeypatch):
    monkeypatch.setattr(
        gateway,
        "account_retrieve",
        lambda account: {
            "id": account,
            "settings": {
                "payouts": {
                    "schedule": {"interval": "monthly", "monthly_anchor": 15, "delay_days": 7}
                }
            },
        },
    )
    monkeypatch.setattr(gateway, "balance_pending_list", lambda account: [])
    monkeypatch.setattr(
        gateway, "balance_retrieve", lambda account: {"available": [], "pending": []}
    )
    client.force_login(seller)
    response = client.post(reverse("accounts:payouts_refresh"), follow=True)
    page = response.content.decode()
    assert "Payout details updated." in page
    assert "Monthly, on day 15; money is paid out 7 days after each payment" in page


def test_refresh_with_stripe_unreachable_says_so(client, seller, monkeypatch):
    monkeypatch.setattr(
        gateway, "account_retrieve", mock.Mock(side_effect=gateway.GatewayUnavailable("down"))
    )
    client.force_login(seller)
    response = client.post(reverse("accounts:payouts_refresh"), follow=True)
    assert response.status_code == 200
    assert gateway.GatewayUnavailable.user_message in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "now", "expected"),
    [
        ({"interval": "daily"}, datetime(2026, 12, 1, 15, tzinfo=UTC), datetime(2026, 12, 2)),
        # 2026-12-01 is a Tuesday: the next Friday is the 4th.
        (
            {"interval": "weekly", "weekly_anchor": "friday"},
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2026, 12, 4),
        ),
        # Day 31 in a 30-day month is its last day; in February, the 28th.
        (
            {"interval": "monthly", "monthly_anchor": 31},
            datetime(2026, 11, 2, tzinfo=UTC),
            datetime(2026, 11, 30),
        ),
        (
            {"interval": "monthly", "monthly_anchor": 31},
            datetime(2027, 2, 1, tzinfo=UTC),
            datetime(2027, 2, 28),
        ),
        ({"interval": "manual"}, datetime(2026, 12, 1, tzinfo=UTC), None),
    ],
)
def test_the_next_payout_day_follows_the_schedule(fields, now, expected):
    day = next_payout_day(PayoutSchedule(**fields), now)
    assert day == (expected.replace(tzinfo=UTC) if expected else None)


def test_the_schedule_in_words():
    assert describe(PayoutSchedule(interval="weekly", weekly_anchor="friday", delay_days=0)) == (
        "Weekly, on Fridays"
    )
    assert describe(None).startswith("Not known yet")
