"""The emails that list an order's items show each item's photo by an absolute address
(mail clients resolve no paths), and an item without a photo shows no image."""

import io
import re

import pytest
from django.core import mail

from payments.models import Payment
from payments.services import intents
from shop import listings
from shop.models import Order
from shop.services import checkout_create
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory, image_bytes
from tests.factories import payment_intent_snapshot as snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_tasks(celery_eager, django_capture_on_commit_callbacks):
    """Run what a service schedules on commit (the emails), tasks inline."""

    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return run


@pytest.fixture
def seller(db):
    return ContractorFactory(profile__charges_enabled=True, profile__stripe_id="acct_photo1")


def bought(*products) -> Payment:
    """A checkout of one of each product, its PaymentIntent made."""
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(p.pk, 1) for p in products])
    order = Order.objects.get(checkout_id=checkout_id)
    Payment.objects.filter(order=order).update(stripe_payment_intent_id=f"pi_mail{order.pk}")
    return Payment.objects.get(order=order)


def html_to(address) -> str:
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return message.alternatives[0][0]


def text_to(address) -> str:
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return message.body


def with_photo(product, alt):
    listings.photo_add(product=product, upload=io.BytesIO(image_bytes()), alt_text=alt)
    return product


def test_the_receipt_and_the_new_order_show_the_absolute_thumbnail(run_tasks, seller, settings):
    settings.SITE_URL = "https://shop.example"
    board = with_photo(ProductFactory(seller=seller, title="Oak board"), "Oak board, top view")
    thumbnail_url = board.photos.get().thumbnail.url
    assert thumbnail_url.startswith("/")  # the storage's path: no host of its own
    payment = bought(board)

    run_tasks(intents.payment_apply_intent, snapshot(payment, "requires_capture"))

    absolute = f"https://shop.example{thumbnail_url}"
    for person in (payment.order.buyer, seller):
        html = html_to(person.email)
        assert f'<img src="{absolute}" alt="Oak board, top view"' in html
        assert "1 × Oak board" in html
        assert "- 1 × Oak board" in text_to(person.email)


def test_the_charged_email_shows_it_too(run_tasks, seller, settings):
    settings.SITE_URL = "https://shop.example"
    board = with_photo(ProductFactory(seller=seller, title="Oak board"), "Oak board, top view")
    payment = bought(board)
    run_tasks(intents.payment_apply_intent, snapshot(payment, "requires_capture"))
    Order.objects.filter(pk=payment.order_id).update(status=Order.Status.FULFILLED)
    mail.outbox.clear()

    run_tasks(intents.payment_apply_intent, snapshot(payment, "succeeded"))

    html = html_to(payment.order.buyer.email)
    assert f'src="https://shop.example{board.photos.get().thumbnail.url}"' in html


def test_a_photo_on_another_host_keeps_its_address(run_tasks, seller, settings):
    settings.MEDIA_URL = "https://cdn.example/media/"
    board = with_photo(ProductFactory(seller=seller), "Oak board, top view")
    payment = bought(board)

    run_tasks(intents.payment_apply_intent, snapshot(payment, "requires_capture"))

    name = board.photos.get().thumbnail.name
    assert f'src="https://cdn.example/media/{name}"' in html_to(payment.order.buyer.email)


def test_an_item_without_a_photo_renders_cleanly(run_tasks, seller):
    board = with_photo(ProductFactory(seller=seller, title="Oak board"), "Oak board, top view")
    plain = ProductFactory(seller=seller, title="Pine shelf")
    payment = bought(board, plain)

    run_tasks(intents.payment_apply_intent, snapshot(payment, "requires_capture"))

    html = html_to(payment.order.buyer.email)
    assert len(re.findall(r"<img ", html)) == 1  # the board's only
    assert "1 × Pine shelf" in html
    assert 'src=""' not in html
    text = text_to(payment.order.buyer.email)
    assert "- 1 × Oak board" in text
    assert "- 1 × Pine shelf" in text
