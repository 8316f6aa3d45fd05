"""Storefronts (/shops/<slug>/), categories, sort orders, shop-name search, and the
first photo's thumbnail in the catalogue, on the product page and in the cart."""

import pytest
from django.urls import reverse

from shop import listings, selectors
from shop.models import Category, Product, Storefront
from shop.storefront import storefront_ensure
from tests.factories import ContractorFactory, ProductFactory, image_bytes
from tests.shop.conftest import jpeg_with_exif, onboarded_contractor, upload

pytestmark = pytest.mark.django_db

MY_SHOP = reverse("shop:seller_storefront")


def titles(client, url=None, **params):
    response = client.get(url or reverse("shop:product_list"), params)
    assert response.status_code == 200
    return [p.title for p in response.context["page"].object_list]


# --- Storefronts --------------------------------------------------------------------


def test_a_sellers_shop_page_shows_the_shop_and_only_its_live_products(client, seller):
    shop = storefront_ensure(seller=seller)
    Storefront.objects.filter(pk=shop.pk).update(description="Boards and bowls.\nBy hand.")
    ProductFactory(seller=seller, title="Live board")
    ProductFactory(seller=seller, title="Paused board", active=False)
    listings.product_archive(product=ProductFactory(seller=seller, title="Archived board"))
    ProductFactory(seller=onboarded_contractor(), title="Someone else's")

    response = client.get(shop.get_absolute_url())
    page = response.content.decode()

    assert shop.get_absolute_url() == "/shops/alices-workshop/"
    assert "<h1>Alice's Workshop</h1>" in page.replace("&#x27;", "'")
    assert "Boards and bowls.<br>By hand." in page
    assert titles(client, shop.get_absolute_url()) == ["Live board"]
    assert "not taking orders" not in page


def test_a_shop_not_yet_onboarded_says_so_and_shows_nothing_for_sale(client):
    shop = storefront_ensure(seller=ContractorFactory(profile__display_name="New shop"))
    ProductFactory(seller=shop.seller)

    page = client.get(shop.get_absolute_url()).content.decode()

    assert "This shop is not taking orders yet." in page
    assert "No products for sale yet." in page


def test_an_unknown_shop_is_404(client):
    assert client.get(reverse("shop:storefront", args=["nobody"])).status_code == 404


def test_the_product_page_and_catalogue_link_to_the_shop(client, seller):
    product = ProductFactory(seller=seller, title="Oak board")
    shop = storefront_ensure(seller=seller)

    detail = client.get(product.get_absolute_url()).content.decode()
    catalogue = client.get(reverse("shop:product_list")).content.decode()

    link = f'<a href="{shop.get_absolute_url()}">Alice&#x27;s Workshop</a>'
    assert f"Sold by {link}" in detail
    assert f"by {link}" in catalogue


def test_the_seller_edits_name_address_description_and_logo(seller_client, seller, client):
    response = seller_client.post(
        MY_SHOP,
        {
            "name": "Alice Woodworks",
            "slug": "Alice-Woodworks",
            "description": "Made in Bristol.",
            "logo_upload": upload(jpeg_with_exif(size=(800, 400)), "logo.jpg"),
        },
    )

    assert response.status_code == 302
    shop = Storefront.objects.get(seller=seller)
    assert (shop.name, shop.slug, shop.description) == (
        "Alice Woodworks",
        "alice-woodworks",
        "Made in Bristol.",
    )
    assert shop.logo.name.startswith(f"shops/{seller.pk}/")
    page = client.get("/shops/alice-woodworks/").content.decode()
    assert f'src="{shop.logo.url}" alt="Alice Woodworks logo"' in page


def test_a_logo_that_is_not_an_image_or_a_taken_address_is_a_field_error(seller_client):
    storefront_ensure(seller=onboarded_contractor(profile__display_name="Taken"))

    response = seller_client.post(
        MY_SHOP,
        {"name": "Mine", "slug": "taken", "logo_upload": upload(b"GIF89a nonsense", "l.gif")},
    )
    errors = response.context["form"].errors

    assert errors["slug"] == ["Another shop has this address. Choose another."]
    response = seller_client.post(
        MY_SHOP, {"name": "Mine", "slug": "mine", "logo_upload": upload(b"<svg/>", "l.png")}
    )
    assert "not a JPEG, PNG, WebP or GIF" in response.context["form"].errors["logo_upload"][0]
    assert not Storefront.objects.filter(slug="mine").exists()


@pytest.mark.parametrize("slug", ["under_score", "two--hyphens", "-edge", "spa ce"])
def test_shop_addresses_are_plain_lowercase_words(seller_client, slug):
    response = seller_client.post(MY_SHOP, {"name": "Mine", "slug": slug})

    assert response.status_code == 200
    assert response.context["form"].errors["slug"]


# --- Categories, sorting and search -------------------------------------------------


@pytest.fixture
def catalogue(seller):
    wood = Category.objects.create(name="Woodwork", slug="woodwork", position=1)
    bikes = Category.objects.create(name="Bikes", slug="bikes", position=2)
    other = onboarded_contractor(profile__display_name="Bob's Bike Repair")
    storefront_ensure(seller=seller)
    storefront_ensure(seller=other)
    products = [
        ProductFactory(seller=seller, title="Bowl", price_amount=8900, category=wood),
        ProductFactory(seller=seller, title="Board", price_amount=4500, category=wood),
        ProductFactory(seller=other, title="Tune-up", price_amount=7500, category=bikes),
        ProductFactory(seller=other, title="Patch", price_amount=1500),
    ]
    return wood, bikes, products


def test_filter_by_category(client, catalogue):
    assert titles(client, category="woodwork") == ["Board", "Bowl"]
    assert titles(client, category="bikes") == ["Tune-up"]
    assert titles(client, category="nothing-here") == []
    page = client.get(reverse("shop:product_list"), {"category": "bikes"}).content.decode()
    assert '<option value="bikes" selected>Bikes</option>' in page


def test_sort_newest_and_by_price_both_ways(client, catalogue):
    assert titles(client) == ["Patch", "Tune-up", "Board", "Bowl"]
    assert titles(client, sort="price_asc") == ["Patch", "Board", "Tune-up", "Bowl"]
    assert titles(client, sort="price_desc") == ["Bowl", "Tune-up", "Board", "Patch"]
    assert titles(client, sort="cheapest-first") == titles(client)  # unknown: newest
    assert titles(client, sort="price_asc", category="woodwork") == ["Board", "Bowl"]


def test_price_order_pages_through_every_product_once(client, seller):
    for n in range(30):
        ProductFactory(seller=seller, title=f"Item {n:02}", price_amount=1000 + (n % 7) * 100)

    seen, page = [], client.get(reverse("shop:product_list"), {"sort": "price_asc"})
    seen += page.context["page"].object_list
    while page.context["page"].next_query:
        page = client.get(reverse("shop:product_list") + "?" + page.context["page"].next_query)
        seen += page.context["page"].object_list

    assert len(seen) == 30
    assert len({p.pk for p in seen}) == 30
    prices = [p.price_amount for p in seen]
    assert prices == sorted(prices)
    assert "sort=price_asc" in page.request["QUERY_STRING"]


def test_an_edited_price_cursor_starts_from_the_first_page(client, catalogue):
    # "cD0yMDI2LTAxLTAx" is p=2026-01-01: a date where a price is due.
    assert titles(client, sort="price_asc", cursor="cD0yMDI2LTAxLTAx")[0] == "Patch"


def test_search_matches_the_sellers_shop_name(client, catalogue):
    assert titles(client, q="bike repair") == ["Patch", "Tune-up"]
    assert titles(client, q="workshop") == ["Board", "Bowl"]
    assert titles(client, q="patch") == ["Patch"]


# --- Thumbnails ---------------------------------------------------------------------


def test_catalogue_product_page_and_cart_show_the_first_photos_thumbnail(client, seller):
    product = ProductFactory(seller=seller, title="Oak board")
    listings.photo_add(product=product, upload=upload(image_bytes()), alt_text="Oak, top view")
    second = listings.photo_add(product=product, upload=upload(image_bytes()), alt_text="Side")
    ProductFactory(seller=seller, title="No photo")
    cover = product.photos.first()

    catalogue = client.get(reverse("shop:product_list")).content.decode()
    detail = client.get(product.get_absolute_url()).content.decode()
    client.post(reverse("shop:cart_add", args=[product.pk]))
    cart = client.get(reverse("shop:cart")).content.decode()

    thumbnail = f'src="{cover.thumbnail.url}" alt="Oak, top view"'
    assert thumbnail in catalogue
    assert thumbnail in cart
    assert f'src="{cover.image.url}" alt="Oak, top view"' in detail
    assert f'src="{second.image.url}" alt="Side"' in detail
    assert cover.thumbnail.url.startswith("/media/products/")


def test_pages_with_photos_allow_images_from_the_shop_itself(client, seller):
    product = ProductFactory(seller=seller)
    listings.photo_add(product=product, upload=upload(image_bytes()), alt_text="x")

    policy = client.get(reverse("shop:product_list"))["Content-Security-Policy"]

    img_src = next(d for d in policy.split(";") if d.strip().startswith("img-src"))
    assert "'self'" in img_src.split()


def test_the_catalogue_reads_covers_without_a_query_per_product(
    client, seller, django_assert_max_num_queries
):
    for n in range(6):
        product = ProductFactory(seller=seller, title=f"P{n}")
        listings.photo_add(product=product, upload=upload(image_bytes()), alt_text=f"P{n}")

    with django_assert_max_num_queries(3):  # the page's rows, the categories, the currencies
        page = client.get(reverse("shop:product_list")).content.decode()
    assert page.count('class="product-thumb"') == 6


def test_products_keep_their_cover_through_product_list_and_cart_selectors(seller):
    product = ProductFactory(seller=seller)
    listings.photo_add(product=product, upload=upload(image_bytes()), alt_text="Cover")

    listed = selectors.product_list().get()
    in_cart = selectors.products_for_cart(product_ids=[product.pk])[product.pk]

    assert listed.cover.alt == in_cart.cover.alt == "Cover"
    assert Product.objects.get(pk=product.pk).cover.alt == "Cover"  # unannotated: a query


def test_the_seller_can_remove_the_logo_and_its_file_goes(
    seller_client, seller, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    seller_client.post(
        MY_SHOP,
        {"name": "Mine", "slug": "mine", "logo_upload": upload(image_bytes(), "logo.png")},
    )
    logo = Storefront.objects.get(seller=seller).logo.name
    assert "remove_logo" in seller_client.get(MY_SHOP).context["form"].fields

    with django_capture_on_commit_callbacks(execute=True):
        seller_client.post(MY_SHOP, {"name": "Mine", "slug": "mine", "remove_logo": "on"})

    assert not Storefront.objects.get(seller=seller).logo
    assert not default_storage.exists(logo)
