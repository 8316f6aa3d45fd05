"""Shipping: the address step of a checkout of shipped goods, the address remembered,
sent to Stripe as the PaymentIntent's `shipping` (checked on what the sandbox
recorded), services asking for none, and the carrier and tracking number the
contractor adds when fulfilling, shown to the buyer and emailed."""

import itertools
from collections.abc import Iterator
from unittest import mock

import pytest
from django.urls import reverse

from accounts.models import UserProfile
from notifications import events as notify
from notifications.models import Notification
from payments import gateway
from payments.models import Payment
from payments.services.intents import payment_intents_ensure
from shop.checkout import checkout_prepare
from shop.models import Order, Product, SavedAddress
from shop.services import checkout_create
from shop.shipping import (
    Address,
    AddressLocked,
    ShippingAddressNeeded,
    checkout_ship_to,
)
from shop.shipping_forms import ShippingAddressForm
from stripe_sandbox.testing import SandboxHandle, run_sandbox
from tests.factories import BuyerFactory, PaymentFactory, ProductFactory
from tests.sandbox.helpers import custom_account

pytestmark = pytest.mark.django_db

NEW_YORK = {
    "name": "Ada Lovelace",
    "line1": "350 Fifth Avenue",
    "line2": "Floor 21",
    "city": "New York",
    "postal_code": "10118",
    "state": "NY",
    "country": "US",
}


_accounts = itertools.count(1)


def address(**changes) -> dict:
    return {**NEW_YORK, **changes}


def shipped_product(**fields) -> Product:
    return ProductFactory(
        kind=Product.Kind.SHIPPED,
        seller__profile__charges_enabled=True,
        seller__profile__stripe_id=f"acct_ships{next(_accounts)}",
        **fields,
    )


def service_product(**fields) -> Product:
    return ProductFactory(
        kind=Product.Kind.SERVICE,
        seller__profile__charges_enabled=True,
        seller__profile__stripe_id=f"acct_serves{next(_accounts)}",
        **fields,
    )


def start_checkout(client, *products) -> Order:
    for product in products:
        client.post(reverse("shop:cart_add", args=[product.pk]), {"quantity": 1})
    response = client.post(reverse("shop:checkout_start"))
    assert response.status_code == 302
    return Order.objects.filter(buyer_id=client.session["_auth_user_id"]).latest("pk")


# --- The address form --------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"line1": "   "}, "line1", "This field is required."),
        ({"city": ""}, "city", "This field is required."),
        ({"country": "XX"}, "country", "Select a valid choice."),
        ({"state": ""}, "state", "Enter the state or province (United States)."),
        ({"state": "Manhattan"}, "state", "“MANHATTAN” is not a state of United States"),
        ({"postal_code": ""}, "postal_code", "Enter the postal code."),
        ({"postal_code": "1011"}, "postal_code", "This is not a postal code of United States."),
        (
            {"country": "CA", "state": "ON", "postal_code": "12345"},
            "postal_code",
            "This is not a postal code of Canada.",
        ),
        ({"country": "AU", "state": "NY", "postal_code": "2000"}, "state", "not a state of"),
        ({"line1": "x" * 201}, "line1", "at most 200 characters"),
    ],
)
def test_an_address_with_a_mistake_is_refused_with_the_field_named(changes, field, message):
    form = ShippingAddressForm(address(**changes))
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_an_address_is_tidied_states_and_postal_codes_written_as_the_post_does():
    form = ShippingAddressForm(
        address(country="GB", state="", postal_code="sw1a  1aa", city=" London ", line2="")
    )
    assert form.is_valid(), form.errors
    assert form.address() == Address(
        name="Ada Lovelace",
        line1="350 Fifth Avenue",
        city="London",
        country="GB",
        postal_code="SW1A 1AA",
    )
    canada = ShippingAddressForm(address(country="CA", state="on", postal_code="k1a 0b1"))
    assert canada.is_valid(), canada.errors
    assert (canada.cleaned_data["state"], canada.cleaned_data["postal_code"]) == ("ON", "K1A 0B1")
    # No state where the post needs none; Ireland's Eircode is optional.
    ireland = ShippingAddressForm(address(country="IE", state="", postal_code=""))
    assert ireland.is_valid(), ireland.errors


# --- The checkout's address step --------------------------------------------------


def test_a_cart_with_shipped_goods_asks_for_the_address_before_the_pay_step(client, buyer):
    client.force_login(buyer)
    order = start_checkout(client, shipped_product(title="Oak board"))
    assert order.requires_shipping

    pay = client.get(reverse("shop:checkout_pay", args=[order.checkout_id]))

    shipping_url = reverse("shop:checkout_shipping", args=[order.checkout_id])
    assert pay.status_code == 302
    assert pay.url == shipping_url  # no intent is made without the address
    assert not Payment.objects.filter(stripe_payment_intent_id__gt="").exists()
    page = client.get(shipping_url)
    assert page.status_code == 200
    assert "Oak board" in page.content.decode()

    bad = client.post(shipping_url, address(postal_code="nope"))
    assert bad.status_code == 200
    assert "This is not a postal code of United States." in bad.content.decode()
    order.refresh_from_db()
    assert order.shipping_line1 == ""

    done = client.post(shipping_url, address(state="ny"))
    assert done.status_code == 302
    assert done.url == reverse("shop:checkout_pay", args=[order.checkout_id])
    order.refresh_from_db()
    assert Address.of_order(order) == Address(**address())
    assert not order.shipping_missing


def test_the_address_is_remembered_for_the_next_checkout(client, buyer):
    client.force_login(buyer)
    first = start_checkout(client, shipped_product(slug="first"))
    client.post(reverse("shop:checkout_shipping", args=[first.checkout_id]), address())
    assert SavedAddress.objects.get(buyer=buyer).city == "New York"

    client.post(reverse("shop:cart_remove", args=[first.items.get().product_id]))
    second = start_checkout(client, shipped_product(slug="second"))
    assert second.checkout_id != first.checkout_id
    page = client.get(reverse("shop:checkout_shipping", args=[second.checkout_id]))

    form = page.context["form"]
    assert {name: form[name].value() for name in NEW_YORK} == NEW_YORK
    # Another buyer sees none of it.
    other = BuyerFactory()
    client.force_login(other)
    assert (
        client.get(reverse("shop:checkout_shipping", args=[second.checkout_id])).status_code == 302
    )


def test_a_cart_of_services_asks_for_no_address(client, buyer):
    client.force_login(buyer)
    order = start_checkout(client, service_product())
    assert not order.requires_shipping
    assert not order.shipping_missing
    shipping = client.get(reverse("shop:checkout_shipping", args=[order.checkout_id]))
    assert shipping.status_code == 302
    assert shipping.url == reverse("shop:checkout_pay", args=[order.checkout_id])


def test_a_checkout_without_its_address_never_makes_an_intent(buyer, monkeypatch):
    create = mock.MagicMock()
    monkeypatch.setattr(gateway, "payment_intent_create", create)
    monkeypatch.setattr(gateway, "customer_create", lambda **kw: {"id": "cus_x"})
    checkout_id = checkout_create(buyer=buyer, items=[(shipped_product().pk, 1)])
    with pytest.raises(ShippingAddressNeeded):
        checkout_prepare(buyer=buyer, checkout_id=checkout_id)
    create.assert_not_called()


def test_the_address_is_fixed_once_the_checkout_is_paid(buyer, monkeypatch):
    update = mock.MagicMock()
    monkeypatch.setattr(gateway, "payment_intent_shipping_update", update)
    checkout_id = checkout_create(buyer=buyer, items=[(shipped_product().pk, 1)])
    checkout_ship_to(buyer=buyer, checkout_id=checkout_id, address=Address(**address()))
    Payment.objects.filter(order__checkout_id=checkout_id).update(
        stripe_payment_intent_id="pi_1", status=Payment.Status.AUTHORIZED
    )
    Order.objects.filter(checkout_id=checkout_id).update(status=Order.Status.PENDING)

    # The same address again (a retried request) is fine; another is refused.
    same = checkout_ship_to(buyer=buyer, checkout_id=checkout_id, address=Address(**address()))
    assert same == 1
    with pytest.raises(AddressLocked, match="already paid"):
        checkout_ship_to(
            buyer=buyer, checkout_id=checkout_id, address=Address(**address(city="Albany"))
        )
    update.assert_not_called()
    assert Order.objects.get(checkout_id=checkout_id).shipping_city == "New York"


def test_paid_in_another_tab_while_stripe_was_told_the_order_still_takes_it(buyer, monkeypatch):
    """The buyer confirms in another tab right after Stripe took the new address: the
    payment is authorised with it, so the order must say it too."""
    checkout_id = checkout_create(buyer=buyer, items=[(shipped_product().pk, 1)])
    checkout_ship_to(buyer=buyer, checkout_id=checkout_id, address=Address(**address()))
    Payment.objects.filter(order__checkout_id=checkout_id).update(stripe_payment_intent_id="pi_1")

    def told_then_paid(**kwargs):
        # The webhook of the other tab's payment lands before our lock is taken.
        Payment.objects.filter(stripe_payment_intent_id="pi_1").update(status="authorized")
        Order.objects.filter(checkout_id=checkout_id).update(status=Order.Status.AUTHORIZED)

    monkeypatch.setattr(gateway, "payment_intent_shipping_update", told_then_paid)
    taken = checkout_ship_to(
        buyer=buyer, checkout_id=checkout_id, address=Address(**address(city="Albany"))
    )
    assert taken == 1
    assert Order.objects.get(checkout_id=checkout_id).shipping_city == "Albany"


def test_stripe_unreachable_leaves_the_address_as_it_was(buyer, monkeypatch):
    def unreachable(**kwargs):
        raise gateway.GatewayUnavailable("down")

    monkeypatch.setattr(gateway, "payment_intent_shipping_update", unreachable)
    checkout_id = checkout_create(buyer=buyer, items=[(shipped_product().pk, 1)])
    checkout_ship_to(buyer=buyer, checkout_id=checkout_id, address=Address(**address()))
    Payment.objects.filter(order__checkout_id=checkout_id).update(stripe_payment_intent_id="pi_1")
    with pytest.raises(gateway.GatewayUnavailable):
        checkout_ship_to(
            buyer=buyer, checkout_id=checkout_id, address=Address(**address(city="Albany"))
        )
    assert Order.objects.get(checkout_id=checkout_id).shipping_city == "New York"


# --- Sent to Stripe: what the sandbox recorded ------------------------------------


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxHandle]:
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle, settings) -> Iterator[SandboxHandle]:
    """The real gateway, pointed at a freshly reset sandbox."""
    sandbox_server.reset()
    settings.STRIPE_API_BASE = sandbox_server.base_url
    settings.STRIPE_SECRET_KEY = sandbox_server.secret_key
    gateway.reset_client()
    yield sandbox_server
    gateway.reset_client()


def seller_at(sandbox: SandboxHandle, product: Product) -> None:
    """The product's seller owns a connected account at the sandbox that can be paid."""
    account = custom_account(sandbox.client())
    UserProfile.objects.filter(user=product.seller).update(
        stripe_id=account.id, charges_enabled=True
    )


def intent_of(sandbox: SandboxHandle, checkout_id) -> dict:
    payment = Payment.objects.get(order__checkout_id=checkout_id)
    return sandbox.client().v1.payment_intents.retrieve(payment.stripe_payment_intent_id)


@pytest.mark.sandbox
def test_the_address_goes_to_stripe_as_the_intents_shipping(sandbox, buyer):
    product = shipped_product()
    seller_at(sandbox, product)
    checkout_id = checkout_create(buyer=buyer, items=[(product.pk, 1)])
    checkout_ship_to(buyer=buyer, checkout_id=checkout_id, address=Address(**address()))

    payment_intents_ensure(
        payment_ids=list(
            Payment.objects.filter(order__checkout_id=checkout_id).values_list("pk", flat=True)
        )
    )

    shipping = intent_of(sandbox, checkout_id).shipping
    assert shipping.name == "Ada Lovelace"
    assert shipping.address.to_dict() == {
        "line1": "350 Fifth Avenue",
        "line2": "Floor 21",
        "city": "New York",
        "postal_code": "10118",
        "state": "NY",
        "country": "US",
    }
    sent = sandbox.control("GET", "/_sandbox/requests?path=/v1/payment_intents")["requests"]
    fields = [call["fields"] for call in sent if call["method"] == "POST"][0]
    assert {"shipping[name]", "shipping[address][line1]", "shipping[address][country]"} <= set(
        fields
    )


@pytest.mark.sandbox
def test_a_corrected_address_before_paying_reaches_the_intent(sandbox, client, buyer):
    """The buyer saw a typo on the pay page: "Change the address" updates the intent
    already made (twice, and back again: each change is sent), and the orders."""
    product = shipped_product()
    seller_at(sandbox, product)
    client.force_login(buyer)
    order = start_checkout(client, product)
    shipping_url = reverse("shop:checkout_shipping", args=[order.checkout_id])
    client.post(shipping_url, address(city="New Yrok"))
    pay = client.get(reverse("shop:checkout_pay", args=[order.checkout_id]))
    assert pay.status_code == 200
    assert shipping_url.encode() in pay.content  # the "Change the address" link

    for city in ("New York", "Albany", "New York"):
        response = client.post(shipping_url, address(city=city))
        assert response.status_code == 302
        assert intent_of(sandbox, order.checkout_id).shipping.address.city == city
    order.refresh_from_db()
    assert order.shipping_city == "New York"
    assert SavedAddress.objects.get(buyer=buyer).city == "New York"


@pytest.mark.sandbox
def test_a_service_sends_no_shipping(sandbox, buyer):
    product = service_product()
    seller_at(sandbox, product)
    checkout_id = checkout_create(buyer=buyer, items=[(product.pk, 1)])

    checkout_prepare(buyer=buyer, checkout_id=checkout_id)

    assert intent_of(sandbox, checkout_id).shipping is None
    sent = sandbox.control("GET", "/_sandbox/requests?path=/v1/payment_intents")["requests"]
    fields = [call["fields"] for call in sent if call["method"] == "POST"][0]
    assert not [name for name in fields if name.startswith("shipping")]


# --- The contractor ships; the buyer follows it -----------------------------------


def authorised_shipped_order() -> Order:
    payment = PaymentFactory(status=Payment.Status.AUTHORIZED, stripe_payment_intent_id="pi_s")
    order = payment.order
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.AUTHORIZED,
        requires_shipping=True,
        **{f"shipping_{name}": value for name, value in address().items()},
    )
    order.refresh_from_db()
    return order


def test_the_seller_sees_the_address_and_ships_with_a_tracking_number(
    client, django_capture_on_commit_callbacks
):
    order = authorised_shipped_order()
    client.force_login(order.seller)
    detail = reverse("shop:sale_detail", args=[order.public_id])

    page = client.get(detail).content.decode()
    for part in ("Ada Lovelace", "350 Fifth Avenue", "Floor 21", "10118 New York, NY"):
        assert part in page
    assert detail in client.get(reverse("shop:sales_list")).content.decode()

    fulfil = reverse("shop:sales_fulfil", args=[order.public_id])
    too_long = client.post(fulfil, {"tracking_number": "1" * 101, "back": "detail"})
    assert too_long.status_code == 400
    assert "at most 100 characters" in too_long.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.AUTHORIZED

    with (
        mock.patch("payments.tasks.payment_capture_task.delay"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            fulfil, {"carrier": "UPS", "tracking_number": "1Z999AA10123456784", "back": "detail"}
        )
    assert response.status_code == 302
    assert response.url == detail
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert (order.carrier, order.tracking_number) == ("UPS", "1Z999AA10123456784")

    client.force_login(order.buyer)
    mine = client.get(reverse("shop:order_detail", args=[order.public_id])).content.decode()
    assert "Sent with UPS, tracking number <strong>1Z999AA10123456784</strong>" in mine

    notify.order_status_changed(order, order.payments.get(), Order.Status.CAPTURED)
    email = Notification.objects.get(recipient=order.buyer, kind="order_charged")
    assert "It is on its way with UPS: tracking number 1Z999AA10123456784." in email.body_text
    assert "1Z999AA10123456784" in email.body_html


def test_another_seller_cannot_see_the_sale_or_its_address(client, contractor):
    order = authorised_shipped_order()
    client.force_login(contractor)
    assert client.get(reverse("shop:sale_detail", args=[order.public_id])).status_code == 404
    fulfil = reverse("shop:sales_fulfil", args=[order.public_id])
    assert client.post(fulfil, {"carrier": "UPS"}).status_code == 404


# --- Sellers say what ships -------------------------------------------------------


def test_a_seller_marks_a_product_as_shipped_goods_and_back(client):
    seller = ProductFactory(
        seller__profile__charges_enabled=True, seller__profile__stripe_id="acct_kinds"
    ).seller
    client.force_login(seller)
    listing = {"title": "Oak board", "description": "", "currency": "usd", "price": "45.00"}

    page = client.get(reverse("shop:seller_product_new")).content.decode()
    assert 'value="shipped"' in page
    assert 'value="service"' in page

    client.post(reverse("shop:seller_product_new"), {**listing, "kind": "shipped"})
    board = Product.objects.get(title="Oak board")
    assert board.kind == Product.Kind.SHIPPED
    edit = reverse("shop:seller_product_edit", args=[board.pk])
    client.post(edit, {**listing, "kind": "service", "stock_shown": ""})
    board.refresh_from_db()
    assert board.kind == Product.Kind.SERVICE
    bad = client.post(edit, {**listing, "kind": "teleported", "stock_shown": ""})
    assert "Select a valid choice" in bad.content.decode()


def test_staff_set_the_kind_in_the_product_admin(client, staff_user):
    client.force_login(staff_user)
    page = client.get(reverse("admin:shop_product_add")).content.decode()
    assert 'name="kind"' in page


def test_the_pay_page_shows_where_the_goods_go_once(client, buyer, monkeypatch):
    fake = mock.MagicMock()
    for name in ("customer_create", "customer_payment_methods", "platform_payment_intent_create"):
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    fake.customer_create.return_value = {"id": "cus_pay"}
    fake.customer_payment_methods.return_value = []
    fake.platform_payment_intent_create.return_value = {
        "id": "pi_both",
        "client_secret": "pi_both_secret_x",
        "status": "requires_payment_method",
    }
    client.force_login(buyer)
    # A service first, then goods that ship, from two contractors: one checkout.
    order = start_checkout(client, service_product(slug="lesson"), shipped_product(slug="bowl"))
    client.post(reverse("shop:checkout_shipping", args=[order.checkout_id]), address())

    page = client.get(reverse("shop:checkout_pay", args=[order.checkout_id])).content.decode()

    assert page.count("Shipping to") == 1
    assert "350 Fifth Avenue" in page
    sent = fake.platform_payment_intent_create.call_args.kwargs["shipping"]
    assert sent["address"]["line1"] == "350 Fifth Avenue"
