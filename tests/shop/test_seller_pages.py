"""Sellers run their listings on the web (/sell/…): create, edit, pause, archive, photos;
never another seller's; buyers and visitors are kept out."""

import pytest
from django.urls import reverse

from shop import listings, selectors
from shop.models import Product, Storefront
from tests.factories import (
    BuyerFactory,
    ContractorFactory,
    OrderFactory,
    OrderItemFactory,
    ProductFactory,
    image_bytes,
)
from tests.shop.conftest import jpeg_with_exif, onboarded_contractor, upload

pytestmark = pytest.mark.django_db

NEW = reverse("shop:seller_product_new")
LIST = reverse("shop:seller_products")


def form(**fields):
    return {
        "title": "Oak board",
        "description": "Hand-finished.",
        "currency": "usd",
        "price": "45.00",
        "category": "",
        "kind": "shipped",  # a new product says what it is (no default is preselected)
        **fields,
    }


def edit_url(product):
    return reverse("shop:seller_product_edit", args=[product.pk])


def seller_urls(product, photo_id=1):
    args = [product.pk]
    return [
        ("get", LIST),
        ("get", NEW),
        ("post", NEW),
        ("get", edit_url(product)),
        ("post", edit_url(product)),
        ("post", reverse("shop:seller_product_pause", args=args)),
        ("post", reverse("shop:seller_product_unpause", args=args)),
        ("post", reverse("shop:seller_product_archive", args=args)),
        ("post", reverse("shop:seller_photo_add", args=args)),
        ("post", reverse("shop:seller_photo_update", args=[product.pk, photo_id])),
        ("post", reverse("shop:seller_photo_move", args=[product.pk, photo_id])),
        ("post", reverse("shop:seller_photo_delete", args=[product.pk, photo_id])),
        ("get", reverse("shop:seller_storefront")),
        ("post", reverse("shop:seller_storefront")),
    ]


def test_visitors_are_sent_to_log_in_and_buyers_refused(client, seller):
    product = ProductFactory(seller=seller)
    for method, url in seller_urls(product):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("accounts:login")), url
    client.force_login(BuyerFactory())
    for method, url in seller_urls(product):
        assert getattr(client, method)(url).status_code == 403, url
    assert Product.objects.get(pk=product.pk).active


def test_another_sellers_product_and_photos_are_404_and_untouched(seller_client, seller):
    theirs = ProductFactory(seller=onboarded_contractor(), title="Theirs", price_amount=9900)
    photo = listings.photo_add(product=theirs, upload=upload(image_bytes()), alt_text="Theirs")
    urls = [(m, u) for m, u in seller_urls(theirs, photo.pk) if "/products/" + str(theirs.pk) in u]

    for method, url in urls:
        assert getattr(seller_client, method)(url, {"direction": "up", **form()}).status_code == 404

    theirs.refresh_from_db()
    assert (theirs.title, theirs.price_amount, theirs.active, theirs.archived_at) == (
        "Theirs",
        9900,
        True,
        None,
    )
    assert theirs.photos.count() == 1


def test_a_seller_lists_a_product_with_a_price_in_major_units(seller_client, seller):
    response = seller_client.post(NEW, form(title="Oak board", price="1,045.50"))

    product = Product.objects.get(seller=seller)
    assert response.status_code == 302
    assert response.url == edit_url(product)
    assert (product.title, product.price_amount, product.currency) == ("Oak board", 104550, "usd")
    assert product.slug == "oak-board"
    assert product.listing_status == "live"
    assert [p.pk for p in selectors.product_list()] == [product.pk]
    # The first product makes the seller's shop page.
    assert Storefront.objects.get(seller=seller).name == "Alice's Workshop"


def test_two_products_with_one_title_get_two_addresses(seller_client, seller):
    seller_client.post(NEW, form(title="Oak board"))
    seller_client.post(NEW, form(title="Oak board"))

    slugs = sorted(Product.objects.values_list("slug", flat=True))
    assert slugs[0] == "oak-board"
    assert slugs[1].startswith("oak-board-")


def test_jpy_prices_are_whole_yen_with_grouping(seller_client, seller):
    seller_client.post(NEW, form(currency="jpy", price="1,500"))

    assert Product.objects.get(seller=seller).price_amount == 1500


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"currency": "jpy", "price": "1,500.50"}, "JPY has no decimal places."),
        ({"price": "45.005"}, "USD allows at most 2 decimal places."),
        ({"price": "45,00"}, "Enter a price such as 45.00"),
        ({"currency": "xyz"}, "Select a valid choice."),
    ],
)
def test_a_wrong_price_or_currency_is_a_field_error(seller_client, seller, fields, message):
    response = seller_client.post(NEW, form(**fields))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors.get("price", []) + errors.get("currency", []))
    assert message in response.content.decode()  # shown next to the field
    assert not Product.objects.exists()


def test_a_price_the_fee_would_eat_is_refused_showing_the_fee(seller_client, settings):
    settings.PLATFORM_FEE_FIXED = 100

    response = seller_client.post(NEW, form(price="1.00"))

    assert response.context["form"].errors["price"] == [
        "The platform fee on $1.00 is $1.00, which would leave you nothing. Set a higher price."
    ]
    assert not Product.objects.exists()


def test_the_currency_is_a_choice_of_the_shops_currencies(seller_client, settings):
    settings.SHOP_CURRENCIES = ["usd", "jpy"]

    page = seller_client.get(NEW).content.decode()

    assert '<select name="currency"' in page
    assert '<option value="jpy">JPY (¥)</option>' in page
    assert 'value="eur"' not in page


def test_editing_shows_major_units_and_saves_changes(seller_client, seller):
    product = ProductFactory(seller=seller, price_amount=4500, title="Old")

    page = seller_client.get(edit_url(product))
    assert page.context["form"]["price"].value() == "45.00"
    response = seller_client.post(edit_url(product), form(title="New", price="50"))

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.title, product.price_amount, product.slug) == ("New", 5000, product.slug)


def test_pause_hides_and_unpause_shows_again(seller_client, seller, client):
    product = ProductFactory(seller=seller)

    seller_client.post(reverse("shop:seller_product_pause", args=[product.pk]))
    product.refresh_from_db()
    assert product.listing_status == "paused"
    assert not selectors.product_list().exists()
    assert seller_client.get(product.get_absolute_url()).status_code == 404

    seller_client.post(reverse("shop:seller_product_unpause", args=[product.pk]))
    product.refresh_from_db()
    assert product.listing_status == "live"
    assert [p.pk for p in selectors.product_list()] == [product.pk]


def test_archive_is_for_good_and_past_orders_keep_the_product(seller_client, seller):
    product = ProductFactory(seller=seller, title="Walnut bowl")
    order = OrderFactory(seller=seller)
    OrderItemFactory(order=order, product=product, title="Walnut bowl")

    response = seller_client.post(reverse("shop:seller_product_archive", args=[product.pk]))
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.listing_status == "archived"
    assert not product.active
    assert not selectors.product_list().exists()

    # Neither put back on sale nor edited.
    seller_client.post(reverse("shop:seller_product_unpause", args=[product.pk]))
    seller_client.post(edit_url(product), form(title="Renamed"))
    product.refresh_from_db()
    assert (product.listing_status, product.title) == ("archived", "Walnut bowl")

    # The buyer's order still shows it, and still points at it.
    seller_client.force_login(order.buyer)
    page = seller_client.get(reverse("shop:order_detail", args=[order.public_id]))
    assert "Walnut bowl" in page.content.decode()
    assert order.items.get().product_id == product.pk


def test_the_list_shows_states_fees_and_archived_apart(seller_client, seller):
    live = ProductFactory(seller=seller, title="Live one", price_amount=4500)
    paused = ProductFactory(seller=seller, title="Paused one", active=False)
    archived = listings.product_archive(product=ProductFactory(seller=seller, title="Gone one"))

    page = seller_client.get(LIST).content.decode()
    archived_page = seller_client.get(LIST, {"show": "archived"}).content.decode()

    assert "Live one" in page
    assert "Paused one" in page
    assert "Gone one" not in page
    assert 'status-live">Live' in page
    assert 'status-paused">Paused' in page
    assert "you get $40.20 after the $4.80 fee" in page  # 10 % + $0.30
    assert "Archived (1)" in page
    assert "Gone one" in archived_page
    assert "Live one" not in archived_page
    assert reverse("shop:seller_product_pause", args=[live.pk]) in page
    assert reverse("shop:seller_product_unpause", args=[paused.pk]) in page
    assert reverse("shop:seller_product_archive", args=[archived.pk]) not in archived_page


def test_a_seller_not_onboarded_prepares_listings_and_is_told_why_they_are_hidden(client):
    seller = ContractorFactory()
    client.force_login(seller)

    client.post(NEW, form(title="Draft board"))
    page = client.get(LIST).content.decode()

    product = Product.objects.get(seller=seller)
    assert product.listing_status == "live"
    assert not selectors.product_list().exists()
    assert "Buyers cannot see your products yet." in page
    assert f'href="{reverse("accounts:onboarding")}"' in page
    assert "Hidden until payments are set up" in page


def test_photos_are_added_described_ordered_and_deleted_on_the_edit_page(seller_client, seller):
    product = ProductFactory(seller=seller)
    add = reverse("shop:seller_photo_add", args=[product.pk])

    response = seller_client.post(add, {"image": upload(jpeg_with_exif()), "alt_text": "Top view"})
    assert response.status_code == 302
    seller_client.post(add, {"image": upload(image_bytes("PNG"), "b.png"), "alt_text": "Side"})
    first, second = product.photos.all()
    page = seller_client.get(edit_url(product)).content.decode()
    assert f'src="{first.thumbnail.url}" alt="Top view"' in page

    seller_client.post(
        reverse("shop:seller_photo_move", args=[product.pk, second.pk]), {"direction": "up"}
    )
    seller_client.post(
        reverse("shop:seller_photo_update", args=[product.pk, first.pk]),
        {"alt_text": "Top view, oiled"},
    )
    assert [p.alt_text for p in product.photos.all()] == ["Side", "Top view, oiled"]

    seller_client.post(reverse("shop:seller_photo_delete", args=[product.pk, second.pk]))
    assert [p.alt_text for p in product.photos.all()] == ["Top view, oiled"]


def test_a_file_that_is_not_an_image_is_a_field_error(seller_client, seller):
    product = ProductFactory(seller=seller)

    response = seller_client.post(
        reverse("shop:seller_photo_add", args=[product.pk]),
        {"image": upload(b"<html>not a photo</html>", "photo.jpg"), "alt_text": "x"},
    )

    assert response.status_code == 200
    assert response.context["photo_form"].errors["image"] == [
        "This file is not a JPEG, PNG, WebP or GIF image. Choose a photo."
    ]
    assert not product.photos.exists()


def test_the_ninth_photo_is_refused_on_the_page(seller_client, seller):
    product = ProductFactory(seller=seller)
    for _ in range(8):
        listings.photo_add(product=product, upload=upload(image_bytes()), alt_text="x")

    page = seller_client.get(edit_url(product)).content.decode()
    response = seller_client.post(
        reverse("shop:seller_photo_add", args=[product.pk]),
        {"image": upload(image_bytes()), "alt_text": "one more"},
    )

    assert "has the most photos it can have" in page
    assert "at most 8 photos" in response.context["photo_form"].errors["image"][0]
    assert product.photos.count() == 8


def test_the_dashboard_and_navigation_link_to_my_products_and_my_shop(seller_client):
    page = seller_client.get(reverse("accounts:dashboard")).content.decode()

    assert f'href="{LIST}">My products</a>' in page
    assert f'href="{reverse("shop:seller_storefront")}">My shop</a>' in page


def test_seller_pages_fit_a_phone(seller_client, seller):
    # The viewport is set, and the seller's rows stack below 600 px (static/css/site.css).
    ProductFactory(seller=seller)
    page = seller_client.get(LIST).content.decode()

    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert 'class="card seller-product"' in page


def test_the_list_pages_through_many_products_and_keeps_the_archived_view(seller_client, seller):
    for n in range(35):
        listings.product_archive(product=ProductFactory(seller=seller, title=f"Old {n}"))

    first = seller_client.get(LIST, {"show": "archived"})
    second = seller_client.get(LIST, {"show": "archived", "page": 2})

    assert len(first.context["products"]) == 30
    assert len(second.context["products"]) == 5
    assert 'href="?show=archived&amp;page=2"' in first.content.decode()
    assert seller_client.get(LIST).context["archived_count"] == 35


def test_the_database_refuses_an_archived_product_that_is_listed(seller):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    product = ProductFactory(seller=seller)

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(archived_at=timezone.now(), active=True)
