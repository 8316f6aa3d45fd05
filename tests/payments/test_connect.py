"""Connect services with the gateway patched."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from payments import gateway
from payments.models import BalanceSnapshot, ContractorDebit, Payment, Payout
from payments.services import connect, debits
from tests.factories import ContractorFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gw(monkeypatch):
    fake = mock.MagicMock()
    for name in [
        "account_create",
        "account_retrieve",
        "account_link_create",
        "balance_retrieve",
        "account_debit_create",
        "transfer_reversal_create",
        "charge_retrieve",
    ]:
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    return fake


def onboarded(n=1):
    return ContractorFactory(profile__stripe_id=f"acct_c{n}", profile__charges_enabled=True)


def test_account_created_once_as_express_for_hosted_onboarding(gw, settings, contractor):
    settings.CONNECT_ONBOARDING = "hosted"
    gw.account_create.return_value = {
        "id": "acct_new",
        "charges_enabled": False,
        "requirements": {"currently_due": ["external_account"]},
    }

    assert connect.contractor_account_ensure(user_id=contractor.pk) == "acct_new"
    assert connect.contractor_account_ensure(user_id=contractor.pk) == "acct_new"

    gw.account_create.assert_called_once_with(
        email=contractor.email,
        user_id=contractor.pk,
        account_type="express",
        country="US",
        idempotency_key=f"user-{contractor.pk}-account",
    )
    contractor.profile.refresh_from_db()
    assert contractor.profile.requirements == {"currently_due": ["external_account"]}


def test_account_updated_with_requirements_blocks_selling():
    seller = onboarded()
    connect.profile_apply_account(
        {
            "id": "acct_c1",
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": True,
            "requirements": {
                "currently_due": ["individual.verification.document"],
                "disabled_reason": "requirements.past_due",
            },
        }
    )
    seller.profile.refresh_from_db()
    assert not seller.profile.charges_enabled
    assert seller.profile.requirements["disabled_reason"] == "requirements.past_due"


def test_onboarding_link_gets_a_fresh_key_each_time(gw):
    seller = onboarded()
    gw.account_link_create.return_value = {"url": "http://sandbox/connect/onboarding/x"}
    for _ in range(2):
        url = connect.onboarding_link_create(user_id=seller.pk, refresh_url="r", return_url="t")
    assert url == "http://sandbox/connect/onboarding/x"
    keys = {c.kwargs["idempotency_key"] for c in gw.account_link_create.call_args_list}
    assert len(keys) == 2


def test_balance_refresh_sums_per_currency_and_is_throttled(gw, settings):
    settings.BALANCE_REFRESH_MIN_SECONDS = 30
    seller = onboarded()
    gw.balance_retrieve.return_value = {
        "available": [{"amount": 1000, "currency": "usd"}, {"amount": -50, "currency": "eur"}],
        "pending": [{"amount": 2220, "currency": "usd"}, {"amount": 5, "currency": "usd"}],
    }

    snapshots = connect.balance_refresh(user_id=seller.pk)
    connect.balance_refresh(user_id=seller.pk)  # within 30 s: no second call

    gw.balance_retrieve.assert_called_once_with(account="acct_c1")
    assert {(s.currency, s.available_amount, s.pending_amount) for s in snapshots} == {
        ("eur", -50, 0),
        ("usd", 1000, 2225),
    }
    BalanceSnapshot.objects.update(fetched_at=timezone.now() - timedelta(seconds=31))
    connect.balance_refresh(user_id=seller.pk)
    assert gw.balance_retrieve.call_count == 2


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_balance_sweep_paces_calls_and_recovers_from_429(gw):
    for n in range(10):
        onboarded(n)
    clock = FakeClock()
    calls = []
    answers = iter([gateway.RateLimited("429")] * 2 + [None] * 20)

    def retrieve(account):
        calls.append((clock.now, account))
        error = next(answers)
        if error:
            raise error
        return {"available": [{"amount": 1, "currency": "usd"}], "pending": []}

    gw.balance_retrieve.side_effect = retrieve

    stats = connect.balances_sweep(rate_per_sec=20, sleep=clock.sleep, clock=clock)

    assert stats == {"refreshed": 10, "rate_limited": 2, "failed": 0}
    assert len({account for _, account in calls}) == 10
    gaps = [b[0] - a[0] for a, b in zip(calls, calls[1:], strict=False)]
    assert min(gaps) >= 0.05 - 1e-9  # never faster than 20 calls/s
    assert BalanceSnapshot.objects.count() == 10


def test_payouts_never_go_backwards():
    onboarded()
    base = {"id": "po_1", "amount": 2220, "currency": "usd", "arrival_date": 1_800_000_000}
    connect.payout_apply(payout={**base, "status": "paid"}, account="acct_c1")
    connect.payout_apply(payout={**base, "status": "in_transit"}, account="acct_c1")
    assert Payout.objects.get().status == "paid"
    connect.payout_apply(payout={**base, "status": "pending"}, account="acct_unknown")
    assert Payout.objects.count() == 1


def test_a_paid_payout_that_the_bank_returns_is_failed_for_good():
    onboarded()
    base = {"id": "po_1", "amount": 2220, "currency": "usd", "arrival_date": 1_800_000_000}
    connect.payout_apply(payout={**base, "status": "paid"}, account="acct_c1")
    connect.payout_apply(
        payout={**base, "status": "failed", "failure_code": "account_closed"}, account="acct_c1"
    )
    assert Payout.objects.get().status == "failed"
    connect.payout_apply(payout={**base, "status": "paid"}, account="acct_c1")  # late
    payout = Payout.objects.get()
    assert payout.status == "failed"
    assert payout.failure_code == "account_closed"


def test_account_debit_is_executed_once_with_the_debit_key(
    gw, staff_user, django_capture_on_commit_callbacks
):
    seller = onboarded()
    gw.account_debit_create.return_value = {"id": "py_1"}
    with mock.patch("payments.tasks.debit_execute_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            debit = debits.debit_create(
                contractor_id=seller.pk,
                amount=1500,
                currency="usd",
                reason="No-show on 3 May",
                created_by_id=staff_user.pk,
            )
        delay.assert_called_once_with(debit.pk)

    debits.debit_execute(debit_id=debit.pk)
    debits.debit_execute(debit_id=debit.pk)

    gw.account_debit_create.assert_called_once_with(
        account="acct_c1",
        amount=1500,
        currency="usd",
        debit_id=debit.pk,
        reason="No-show on 3 May",
        idempotency_key=f"debit-{debit.pk}",
    )
    debit.refresh_from_db()
    assert (debit.status, debit.stripe_object_id) == ("succeeded", "py_1")


def test_debit_refused_by_stripe_is_recorded_as_failed(gw, staff_user):
    seller = onboarded()
    gw.account_debit_create.side_effect = gateway.GatewayRejected("Insufficient funds.")
    debit = debits.debit_create(
        contractor_id=seller.pk,
        amount=1500,
        currency="usd",
        reason="No-show",
        created_by_id=staff_user.pk,
    )
    debits.debit_execute(debit_id=debit.pk)
    debit.refresh_from_db()
    assert debit.status == ContractorDebit.Status.FAILED
    assert "Insufficient funds" in debit.failure_message


def test_order_debit_reverses_the_transfer_within_the_contractors_share(gw, staff_user):
    payment = PaymentFactory(
        status=Payment.Status.CAPTURED,
        amount_captured=2500,
        application_fee_amount=280,
        stripe_charge_id="ch_1",
    )
    seller = payment.order.seller
    seller.profile.stripe_id = "acct_rev"
    seller.profile.save()
    with pytest.raises(debits.DebitError, match="cannot exceed"):
        debits.debit_create(
            contractor_id=seller.pk,
            amount=2221,
            currency="usd",
            reason="x",
            created_by_id=None,
            order_id=payment.order_id,
        )
    gw.charge_retrieve.return_value = {"id": "ch_1", "transfer": "tr_1"}
    gw.transfer_reversal_create.return_value = {"id": "trr_1"}
    debit = debits.debit_create(
        contractor_id=seller.pk,
        amount=2220,
        currency="eur",
        reason="Damaged goods",
        created_by_id=None,
        order_id=payment.order_id,
    )
    assert (debit.method, debit.currency) == ("transfer_reversal", "usd")
    debits.debit_execute(debit_id=debit.pk)
    gw.transfer_reversal_create.assert_called_once_with(
        transfer="tr_1", amount=2220, debit_id=debit.pk, idempotency_key=f"debit-{debit.pk}"
    )


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [(0, "x", "positive"), (-5, "x", "positive"), (10, "  ", "why")],
)
def test_bad_debits_are_refused(amount, reason, message):
    seller = onboarded()
    with pytest.raises(debits.DebitError, match=message):
        debits.debit_create(
            contractor_id=seller.pk,
            amount=amount,
            currency="usd",
            reason=reason,
            created_by_id=None,
        )
    assert not ContractorDebit.objects.exists()
