"""Automatic payouts on the sandbox clock, as Stripe makes them on each connected
account's `settings.payouts.schedule`: available money goes out at the account's
payout moment (midnight UTC), arrives two days later, and fails to Stripe's failing
test bank account numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stripe

from stripe_sandbox.__main__ import parse_args
from stripe_sandbox.payout_schedule import DAY, WEEKDAYS

from .helpers import available, custom_account, destination_payment, express_account

pytestmark = pytest.mark.sandbox


def _now(sandbox) -> float:
    return sandbox.sandbox.clock.time()


def advance_past_midnight(sandbox, days: int = 1) -> None:
    """Move the sandbox clock just past the `days`-th next midnight UTC."""
    now = _now(sandbox)
    target = (int(now // DAY) + days) * DAY + 60
    sandbox.control("POST", "/_sandbox/clock", {"advance": target - now})


def payouts_of(client, account: str) -> list:
    return client.v1.payouts.list(options={"stripe_account": account}).data


def on_schedule(client, account: str, **schedule) -> stripe.Account:
    return client.v1.accounts.update(
        account, params={"settings": {"payouts": {"schedule": schedule}}}
    )


def test_a_daily_account_is_paid_its_available_balance_at_midnight(sandbox, client, receiver):
    account = custom_account(client).id
    on_schedule(client, account, interval="daily")
    destination_payment(client, account, 6_000, 1_000)
    assert available(client, account) == 5_000
    assert payouts_of(client, account) == []

    advance_past_midnight(sandbox)
    [payout] = payouts_of(client, account)
    assert (payout.amount, payout.currency, payout.status) == (5_000, "usd", "pending")
    assert payout.automatic is True
    assert payout.arrival_date == (payout.created // DAY + 2) * DAY  # a day, midnight UTC
    assert available(client, account) == 0
    txns = client.v1.balance_transactions.list(
        params={"payout": payout.id}, options={"stripe_account": account}
    ).data
    assert {t.type for t in txns} == {"payment", "payout"}
    assert sum(t.net for t in txns) == 0  # the payout takes exactly what came in

    # The day before it arrives, it is on its way to the bank.
    advance_past_midnight(sandbox)
    assert payouts_of(client, account)[0].status == "in_transit"
    advance_past_midnight(sandbox)
    assert payouts_of(client, account)[0].status == "paid"
    # The next days there was nothing left to pay out.
    assert len(payouts_of(client, account)) == 1
    receiver.wait_for(lambda got: "payout.paid" in [r.event["type"] for r in got])
    connect = [r.event for r in receiver.requests if r.path == "/connect"]
    payout_events = [e["type"] for e in connect if e["type"].startswith("payout.")]
    assert payout_events == ["payout.created", "payout.updated", "payout.paid"]
    moved = [e for e in connect if e["type"] == "payout.updated"][0]
    assert moved["data"]["previous_attributes"] == {"status": "pending"}
    assert {e["account"] for e in connect if e["type"].startswith("payout.")} == {account}
    assert receiver.types("/platform").count("payout.created") == 0


def test_a_weekly_schedule_pays_only_on_its_anchor_day(sandbox, client):
    account = custom_account(client).id
    tomorrow = (int(_now(sandbox) // DAY) + 1) * DAY
    anchor = WEEKDAYS[datetime.fromtimestamp(tomorrow + DAY, tz=UTC).weekday()]
    updated = on_schedule(client, account, interval="weekly", weekly_anchor=anchor)
    assert updated.settings.payouts.schedule.weekly_anchor == anchor
    destination_payment(client, account, 3_000, 300)

    advance_past_midnight(sandbox)  # not the anchor day
    assert payouts_of(client, account) == []
    advance_past_midnight(sandbox)  # the anchor day
    assert [p.amount for p in payouts_of(client, account)] == [2_700]


def test_a_manual_account_is_never_paid_automatically(sandbox, client):
    account = custom_account(client)
    assert account.settings.payouts.schedule.interval == "manual"
    destination_payment(client, account.id, 4_000, 400)
    advance_past_midnight(sandbox, days=10)
    assert payouts_of(client, account.id) == []
    assert available(client, account.id) == 3_600
    # It pays out on request instead (the Payouts API on the connected account).
    payout = client.v1.payouts.create(
        params={"amount": 3_600, "currency": "usd"}, options={"stripe_account": account.id}
    )
    assert payout.automatic is False


def test_an_automatic_account_cannot_make_manual_payouts(sandbox, client):
    account = custom_account(client).id
    on_schedule(client, account, interval="daily")
    destination_payment(client, account, 2_000, 200)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payouts.create(
            params={"amount": 1_000, "currency": "usd"}, options={"stripe_account": account}
        )
    assert refused.value.code == "payouts_not_allowed"


def test_schedules_stripe_would_refuse_are_refused(sandbox, client):
    account = custom_account(client).id
    with pytest.raises(stripe.InvalidRequestError) as too_short:
        on_schedule(client, account, interval="daily", delay_days=1)
    assert too_short.value.param == "settings[payouts][schedule][delay_days]"
    with pytest.raises(stripe.InvalidRequestError) as no_anchor:
        on_schedule(client, account, interval="weekly")
    assert no_anchor.value.param == "settings[payouts][schedule][weekly_anchor]"
    minimum = on_schedule(
        client, account, interval="monthly", monthly_anchor=31, delay_days="minimum"
    )
    assert minimum.settings.payouts.schedule.delay_days == 2
    assert minimum.settings.payouts.schedule.monthly_anchor == 31


def test_a_schedule_change_is_reported_as_account_updated(sandbox, client, receiver):
    account = custom_account(client).id
    on_schedule(client, account, interval="daily")

    def schedule_update(got) -> bool:
        return any(
            r.event["type"] == "account.updated"
            and r.event["data"]["object"]["settings"]["payouts"]["schedule"]["interval"] == "daily"
            for r in got
        )

    [event] = [r.event for r in receiver.wait_for(schedule_update) if schedule_update([r])]
    assert event["account"] == account
    assert "settings" in event["data"]["previous_attributes"]


def test_a_failing_test_bank_account_fails_the_payout_and_stops_the_schedule(
    sandbox, client, receiver
):
    account = custom_account(client).id
    on_schedule(client, account, interval="daily")
    client.v1.accounts.update(
        account,
        params={
            "external_account": {
                "object": "bank_account",
                "country": "US",
                "currency": "usd",
                "routing_number": "110000000",
                "account_number": "000111111116",
            }
        },
    )
    destination_payment(client, account, 5_000, 500)
    advance_past_midnight(sandbox)
    advance_past_midnight(sandbox, days=2)
    [payout] = payouts_of(client, account)
    assert (payout.status, payout.failure_code) == ("failed", "no_account")
    assert payout.failure_message
    assert available(client, account) == 4_500  # the money came back
    bank = client.v1.accounts.retrieve(account).external_accounts.data[0]
    assert bank.status == "errored"
    receiver.wait_for(lambda got: "payout.failed" in [r.event["type"] for r in got])

    # No scheduled payout goes to an errored bank account; new details resume them.
    advance_past_midnight(sandbox)
    assert len(payouts_of(client, account)) == 1
    client.v1.accounts.update(
        account,
        params={
            "external_account": {
                "object": "bank_account",
                "country": "US",
                "currency": "usd",
                "routing_number": "110000000",
                "account_number": "000123456789",
            }
        },
    )
    advance_past_midnight(sandbox)
    assert [p.amount for p in payouts_of(client, account)][0] == 4_500


def test_payout_interval_sets_the_schedule_of_accounts_that_set_none(sandbox, client):
    own = custom_account(client).id
    on_schedule(client, own, interval="weekly", weekly_anchor="friday")
    default = custom_account(client).id
    settings = sandbox.control("POST", "/_sandbox/config", {"payout_interval": "daily"})
    assert settings["payout_interval"] == "daily"
    assert client.v1.accounts.retrieve(default).settings.payouts.schedule.interval == "daily"
    assert client.v1.accounts.retrieve(own).settings.payouts.schedule.interval == "weekly"
    new = custom_account(client)
    assert new.settings.payouts.schedule.interval == "daily"


def test_payout_interval_is_a_command_line_option():
    assert parse_args([]).payout_interval == "manual"
    assert parse_args(["--payout-interval", "daily"]).payout_interval == "daily"
    with pytest.raises(SystemExit):
        parse_args(["--payout-interval", "hourly"])


def test_hosted_onboarding_again_replaces_an_errored_bank_account(sandbox, client):
    account = express_account(client, sandbox).id
    client.v1.accounts.update(
        account,
        params={
            "settings": {"payouts": {"schedule": {"interval": "daily"}}},
            "external_account": {
                "object": "bank_account",
                "country": "US",
                "currency": "usd",
                "routing_number": "110000000",
                "account_number": "000111111113",
            },
        },
    )
    destination_payment(client, account, 3_000, 300)
    advance_past_midnight(sandbox)
    advance_past_midnight(sandbox, days=2)
    assert payouts_of(client, account)[0].failure_code == "account_closed"
    link = client.v1.account_links.create(
        params={
            "account": account,
            "type": "account_onboarding",
            "refresh_url": "https://shop.test/refresh",
            "return_url": "https://shop.test/done",
        }
    )
    sandbox.sandbox.onboarding_complete(link.url.rsplit("/", 1)[1])
    bank = client.v1.accounts.retrieve(account).external_accounts.data[0]
    assert bank.status == "new"
    advance_past_midnight(sandbox)
    assert [p.status for p in payouts_of(client, account)] == ["pending", "failed"]
