"""Money limits hold across operations: reversals count earlier refunds and debits."""

import pytest

from payments.models import ContractorDebit, Payment, Refund
from payments.services import debits
from tests.factories import PaymentFactory, RefundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured():
    """A captured sale of 100.00 with a 10.30 fee: the contractor received 89.70."""
    payment = PaymentFactory(
        status=Payment.Status.CAPTURED,
        amount=10000,
        amount_captured=10000,
        application_fee_amount=1030,
        stripe_charge_id="ch_cap",
    )
    profile = payment.order.seller.profile
    profile.stripe_id = "acct_limits"
    profile.save()
    return payment


def reversal(payment, amount):
    return debits.debit_create(
        contractor_id=payment.order.seller_id,
        amount=amount,
        currency="usd",
        reason="No-show",
        created_by_id=None,
        order_id=payment.order_id,
    )


def test_two_full_reversals_of_one_order_cannot_both_pass(captured):
    reversal(captured, 8970)

    with pytest.raises(debits.DebitError, match=r"still holds of this order: \$0\.00"):
        reversal(captured, 8970)

    assert ContractorDebit.objects.count() == 1


def test_partial_reversals_add_up_to_the_net_at_most(captured):
    reversal(captured, 5000)
    reversal(captured, 3970)

    with pytest.raises(debits.DebitError):
        reversal(captured, 1)


def test_a_failed_reversal_frees_its_amount_again(captured):
    failed = reversal(captured, 8970)
    ContractorDebit.objects.filter(pk=failed.pk).update(status=ContractorDebit.Status.FAILED)

    assert reversal(captured, 8970).amount == 8970


@pytest.mark.parametrize(
    ("refund_fee", "left"),
    [
        # 25.00 refunded with the transfer reversed: 89.70 − 25.00 = 64.70
        (False, 6470),
        # … and the fee's share given back too (10.30 × 25 % = 2.575 → 2.58): 67.28
        (True, 6728),
    ],
)
def test_refunds_that_reverse_the_transfer_count(captured, refund_fee, left):
    RefundFactory(
        payment=captured,
        amount=2500,
        status=Refund.Status.SUCCEEDED,
        reverse_transfer=True,
        refund_application_fee=refund_fee,
    )

    assert debits.transfer_left(captured) == left
    with pytest.raises(debits.DebitError):
        reversal(captured, left + 1)
    assert reversal(captured, left).amount == left


def test_refunds_that_leave_the_transfer_or_failed_do_not_count(captured):
    RefundFactory(payment=captured, amount=2500, reverse_transfer=False, status="succeeded")
    RefundFactory(payment=captured, amount=4000, reverse_transfer=True, status="failed")

    assert debits.transfer_left(captured) == 8970


def _at_once(count, action):
    """Run `action` in `count` threads released together; their results, in any order."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(count)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(action())
        except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_full_reversals_at_once_one_is_refused():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite locks the whole file)")
    payment = PaymentFactory(
        status=Payment.Status.CAPTURED,
        amount=10000,
        amount_captured=10000,
        application_fee_amount=1030,
    )
    payment.order.seller.profile.stripe_id = "acct_race"
    payment.order.seller.profile.save()

    results = _at_once(2, lambda: reversal(payment, 8970) and "ok")

    assert sorted(results) == ["DebitError", "ok"]
    assert ContractorDebit.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_four_checkouts_of_one_cart_at_once_make_one_checkout():
    from django.test import Client
    from django.urls import reverse

    from shop.models import Order
    from tests.factories import BuyerFactory, ProductFactory

    product = ProductFactory(
        seller__profile__charges_enabled=True, seller__profile__stripe_id="acct_once"
    )
    browser = Client()
    browser.force_login(BuyerFactory())
    browser.post(reverse("shop:cart_add", args=[product.pk]), {"quantity": "1"})
    cookie = browser.cookies["sessionid"].value

    def submit():
        tab = Client()
        tab.cookies["sessionid"] = cookie
        return tab.post(reverse("shop:checkout_start"))["Location"]

    locations = _at_once(4, submit)

    assert Order.objects.count() == 1
    checkout_id = str(Order.objects.get().checkout_id)
    assert all(checkout_id in location for location in locations), locations
