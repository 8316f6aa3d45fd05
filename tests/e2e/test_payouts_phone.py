"""The dashboard's payouts on a phone (390 × 844): the schedule, the next payout, "Pay
out now" and past payouts with a failure explained fit the screen
(`document.documentElement.scrollWidth <= innerWidth`), before and after the button.

Django's live server and Chromium only (no sandbox nor worker: the page reads our
copies, and the one Stripe call, the balance read of "Pay out now", is faked). Each
state leaves a screenshot in test-artifacts/e2e/payouts-phone/.
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from payments import gateway, tasks
from payments.models import BalanceSnapshot, Payout, PayoutRequest, PayoutSchedule
from tests.factories import ContractorFactory
from tests.phones import PHONES, assert_fits, watched_page

from .conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = PHONES["390"]
ACCOUNT = "acct_1PayoutsOnAPhone0001"


@pytest.fixture
def phone(browser):
    with watched_page(browser, PHONE, device_scale_factor=1) as page:
        yield page


def fits(page, name: str) -> None:
    assert_fits(page, ARTIFACTS / "payouts-phone", name, PHONE["width"])


def contractor_with_payouts(interval: str):
    seller = ContractorFactory(
        email="a.contractor.with.a.rather.long.address@example.com",
        profile__stripe_id=ACCOUNT,
        profile__charges_enabled=True,
        profile__payouts_enabled=True,
        profile__details_submitted=True,
    )
    now = timezone.now()
    PayoutSchedule.objects.create(
        contractor=seller,
        account=ACCOUNT,
        interval=interval,
        delay_days=14,
        weekly_anchor="wednesday" if interval == "weekly" else "",
        fetched_at=now,
        pending_funds=[
            {
                "currency": "usd",
                "amount": 98_765_43,
                "available_on": (now + timedelta(days=1)).timestamp(),
            }
        ],
    )
    for currency, amount in (("usd", 12_345_678), ("eur", 89_000), ("jpy", 1_234_567)):
        BalanceSnapshot.objects.create(
            contractor=seller,
            account=ACCOUNT,
            currency=currency,
            available_amount=amount,
            pending_amount=amount // 3,
            fetched_at=now,
        )
    for n, (status, code) in enumerate(
        [
            ("paid", ""),
            ("in_transit", ""),
            ("failed", "debit_not_authorized"),
            ("failed", "incorrect_account_holder_name"),
        ]
    ):
        Payout.objects.create(
            stripe_id=f"po_1PayoutsOnAPhoneLongIdentifier{n:04d}",
            contractor=seller,
            account=ACCOUNT,
            amount=150_000_00,
            currency="usd",
            status=status,
            arrival_date=now,
            failure_code=code,
            automatic=n % 2 == 0,
        )
    return seller


def test_automatic_payouts_fit_a_phone(phone, live_server):
    log_in(phone, live_server.url, contractor_with_payouts("weekly"))
    phone.wait_for_url("**/accounts/dashboard/")
    payouts = phone.locator("#payouts")
    payouts.scroll_into_view_if_needed()
    assert "Weekly, on Wednesdays" in payouts.inner_text()
    assert "Next payout, expected" in payouts.inner_text()
    assert phone.get_by_role("link", name="Update your bank details").count() == 2
    fits(phone, "automatic")


def test_pay_out_now_fits_a_phone_before_and_after(phone, live_server, monkeypatch):
    seller = contractor_with_payouts("manual")
    monkeypatch.setattr(
        gateway,
        "balance_retrieve",
        lambda account: {"available": [{"amount": 12_345_678, "currency": "usd"}], "pending": []},
    )
    log_in(phone, live_server.url, seller)
    phone.wait_for_url("**/accounts/dashboard/")
    fits(phone, "manual")

    with mock.patch.object(tasks.payout_request_execute_task, "delay"):
        phone.get_by_role("button", name="Pay out $123,456.78 now").click()
        phone.wait_for_url(lambda url: url.endswith("/accounts/dashboard/#payouts"))
    assert "requested" in phone.locator(".messages, .message").first.inner_text()
    assert PayoutRequest.objects.get().amount == 12_345_678
    assert "is on its way to Stripe" in phone.locator("#payouts").inner_text()
    assert phone.get_by_role("button", name="Pay out $123,456.78 now").count() == 0
    fits(phone, "manual-after-pay-out-now")
