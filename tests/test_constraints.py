"""The database itself refuses impossible money, whatever code writes it."""

import pytest
from django.db import IntegrityError, transaction

from payments.models import Payment
from tests.factories import (
    OrderFactory,
    OrderItemFactory,
    PaymentFactory,
    ProductFactory,
    RefundFactory,
)

pytestmark = pytest.mark.django_db


def refused(factory, **kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**kwargs)


def test_product_price_and_currency():
    refused(ProductFactory, price_amount=0)
    refused(ProductFactory, currency="USD")
    refused(ProductFactory, currency="us")
    assert ProductFactory(price_amount=1, currency="jpy").pk


def test_order_amounts():
    refused(OrderFactory, amount=0, fee_amount=0)
    refused(OrderFactory, amount=100, fee_amount=101)
    assert OrderFactory(amount=100, fee_amount=100).pk


def test_order_item_quantity_and_price():
    refused(OrderItemFactory, quantity=0)
    refused(OrderItemFactory, unit_amount=0)


def test_payment_amounts_stay_consistent():
    payment = PaymentFactory(amount=1000, application_fee_amount=130)
    for changes in [
        {"amount_authorized": 1001},
        {"amount_captured": 1001},
        {"amount_captured": 500, "amount_refunded": 501},
        {"application_fee_amount": 1001},
        {"destination_account": "cus_123"},
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(**changes)
    Payment.objects.filter(pk=payment.pk).update(amount_captured=1000, amount_refunded=1000)


def test_refund_amount_positive():
    refused(RefundFactory, amount=0)
