"""Every model is in admin, staff can open it, and money is shown in its currency."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import PaymentFactory, ProductFactory, RefundFactory

pytestmark = pytest.mark.django_db

OUR_APPS = ("accounts", "shop", "payments")


def our_models():
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


@pytest.mark.parametrize("model", our_models(), ids=lambda m: m._meta.label)
def test_every_model_is_registered_and_its_pages_open(client, staff_user, model):
    assert admin.site.is_registered(model)
    client.force_login(staff_user)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200


def test_money_and_stripe_ids_are_read_only(client, staff_user):
    refund = RefundFactory(payment=PaymentFactory(order__amount=123456, amount=123456))
    client.force_login(staff_user)

    page = client.get(reverse("admin:payments_payment_changelist")).content.decode()
    assert "$1,234.56" in page

    url = reverse("admin:payments_payment_change", args=[refund.payment.pk])
    form = client.get(url).context["adminform"].form
    assert "amount_captured" not in form.fields
    assert "stripe_payment_intent_id" not in form.fields


def test_non_staff_never_reach_admin(client, buyer):
    client.force_login(buyer)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_product_price_is_formatted_in_admin(client, staff_user):
    ProductFactory(price_amount=500, currency="jpy", title="Tea")
    client.force_login(staff_user)
    page = client.get(reverse("admin:shop_product_changelist")).content.decode()
    assert "¥500" in page
