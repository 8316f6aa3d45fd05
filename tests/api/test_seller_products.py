"""/api/seller/products/…: contractors run their own listings through the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shop import listings
from shop.models import Category, Product
from tests.api.conftest import client_for
from tests.factories import ContractorFactory, OrderItemFactory, ProductFactory, image_bytes

pytestmark = pytest.mark.django_db

LIST = "/api/seller/products/"


def url(product, action=""):
    return f"{LIST}{product.pk}/{action + '/' if action else ''}"


def create(api, **fields):
    body = {"title": "Oak board", "price": "45.00", "currency": "usd", **fields}
    return api.post(LIST, body, format="json")


def photo_file(content=None, name="photo.jpg"):
    return SimpleUploadedFile(name, content or image_bytes("JPEG", (64, 48)), "image/jpeg")


def test_visitors_get_401_and_buyers_403(anon, buyer_api, product):
    for api, status in ((anon, 401), (buyer_api, 403)):
        assert api.get(LIST).status_code == status
        assert create(api).status_code == status
        assert api.patch(url(product), {"title": "x"}, format="json").status_code == status
        assert api.post(url(product, "archive")).status_code == status
    assert Product.objects.get(pk=product.pk).listing_status == "live"


def test_create_with_a_price_in_major_units(seller_api, seller):
    Category.objects.create(name="Woodwork", slug="woodwork")

    response = create(seller_api, price="1,045.50", category="woodwork", description="Oiled.")

    assert response.status_code == 201, response.json()
    body = response.json()
    product = Product.objects.get(seller=seller)
    assert body["id"] == product.pk
    assert {k: body[k] for k in ("price", "price_amount", "currency", "price_display")} == {
        "price": "1045.50",
        "price_amount": 104550,
        "currency": "usd",
        "price_display": "$1,045.50",
    }
    assert (body["fee_amount"], body["fee_display"]) == (10485, "$104.85")
    assert (body["status"], body["buyable"], body["hidden_reason"]) == ("live", True, None)
    assert (body["category"], body["slug"], body["photos"]) == ("woodwork", "oak-board", [])


@pytest.mark.parametrize(
    ("fields", "amount"),
    [({"currency": "jpy", "price": "1,500"}, 1500), ({"price": "45"}, 4500)],
)
def test_prices_per_currency(seller_api, fields, amount):
    assert create(seller_api, **fields).json()["price_amount"] == amount


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"currency": "jpy", "price": "15.5"}, "price", "JPY has no decimal places."),
        ({"price": "45.001"}, "price", "USD allows at most 2 decimal places."),
        ({"price": "forty"}, "price", "Enter a price such as 45.00"),
        ({"currency": "xyz"}, "currency", '"xyz" is not a valid choice.'),
        ({"category": "nope"}, "category", "Object with slug=nope does not exist."),
    ],
)
def test_bad_prices_and_choices_are_400_with_the_field(seller_api, fields, field, message):
    response = create(seller_api, **fields)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert message in error["fields"][field][0]
    assert not Product.objects.exists()


def test_a_price_the_fee_would_eat_is_refused_showing_the_fee(seller_api, settings):
    settings.PLATFORM_FEE_FIXED = 100

    response = create(seller_api, price="1.00")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["price"] == [
        "The platform fee on $1.00 is $1.00, which would leave you nothing. Set a higher price."
    ]


def test_a_seller_not_onboarded_lists_products_hidden_until_payments_are_set_up():
    api = client_for(ContractorFactory())

    body = create(api).json()

    assert (body["status"], body["buyable"], body["hidden_reason"]) == (
        "live",
        False,
        "payments_not_set_up",
    )


def test_the_list_is_the_sellers_own_in_every_state(seller_api, seller, other_seller):
    live = ProductFactory(seller=seller, title="Live")
    paused = ProductFactory(seller=seller, title="Paused", active=False)
    archived = listings.product_archive(product=ProductFactory(seller=seller, title="Gone"))
    ProductFactory(seller=other_seller, title="Theirs")

    everything = seller_api.get(LIST).json()["results"]
    only_paused = seller_api.get(LIST, {"status": "paused"}).json()["results"]

    assert {p["title"]: p["status"] for p in everything} == {
        "Live": "live",
        "Paused": "paused",
        "Gone": "archived",
    }
    assert [p["id"] for p in only_paused] == [paused.pk]
    assert {p["hidden_reason"] for p in everything if p["id"] != live.pk} == {
        "paused",
        "archived",
    }
    assert archived.pk in {p["id"] for p in everything}


def test_another_sellers_product_is_404_everywhere(seller_api, other_seller):
    theirs = ProductFactory(seller=other_seller, title="Theirs")
    photo = listings.photo_add(product=theirs, upload=photo_file(), alt_text="Theirs")

    calls = [
        seller_api.get(url(theirs)),
        seller_api.patch(url(theirs), {"title": "Mine now"}, format="json"),
        seller_api.post(url(theirs, "pause")),
        seller_api.post(url(theirs, "unpause")),
        seller_api.post(url(theirs, "archive")),
        seller_api.post(url(theirs, "photos"), {"image": photo_file(), "alt_text": "x"}),
        seller_api.patch(url(theirs, f"photos/{photo.pk}"), {"alt_text": "x"}, format="json"),
        seller_api.delete(url(theirs, f"photos/{photo.pk}")),
    ]

    assert [c.status_code for c in calls] == [404] * len(calls)
    assert calls[0].json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert (theirs.title, theirs.listing_status, theirs.photos.count()) == ("Theirs", "live", 1)


def test_patch_changes_fields_and_a_new_currency_needs_the_price_again(seller_api, product):
    response = seller_api.patch(
        url(product), {"title": "Garden tidy (2 h)", "price": "60"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["price_amount"]) == (
        "Garden tidy (2 h)",
        6000,
    )

    refused = seller_api.patch(url(product), {"currency": "jpy"}, format="json")
    moved = seller_api.patch(url(product), {"currency": "jpy", "price": "6,000"}, format="json")

    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {
        "price": ["Give the price again in the new currency."]
    }
    assert (moved.json()["price_amount"], moved.json()["price_display"]) == (6000, "¥6,000")


def test_pause_unpause_archive_and_archived_is_final(seller_api, product, anon):
    assert seller_api.post(url(product, "pause")).json()["status"] == "paused"
    assert anon.get(f"/api/products/{product.slug}/").status_code == 404
    assert seller_api.post(url(product, "unpause")).json()["status"] == "live"
    item = OrderItemFactory(product=product, title=product.title)

    archived = seller_api.post(url(product, "archive"))
    again = seller_api.post(url(product, "archive"))
    unpause = seller_api.post(url(product, "unpause"))
    edit = seller_api.patch(url(product), {"title": "Back"}, format="json")

    assert (archived.status_code, archived.json()["status"]) == (200, "archived")
    assert again.status_code == 200
    assert unpause.status_code == edit.status_code == 409
    assert unpause.json()["error"] == {
        "code": "invalid_state",
        "message": "This product is archived: it can no longer be changed.",
        "fields": {},
    }
    assert anon.get("/api/products/").json()["count"] == 0
    item.refresh_from_db()
    assert item.product_id == product.pk  # the old order keeps it


def test_photos_upload_describe_reorder_delete(seller_api, product):
    first = seller_api.post(url(product, "photos"), {"image": photo_file(), "alt_text": "Front"})
    second = seller_api.post(url(product, "photos"), {"image": photo_file(), "alt_text": "Back"})

    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["alt_text"] == "Front"
    assert body["position"] == 0
    assert body["url"].startswith("/media/products/")
    assert body["url"].endswith(".jpg")
    assert body["thumbnail_url"].endswith("-thumb.jpg")
    moved = seller_api.patch(
        url(product, f"photos/{second.json()['id']}"),
        {"position": 0, "alt_text": "Back view"},
        format="json",
    )
    assert (moved.json()["position"], moved.json()["alt_text"]) == (0, "Back view")
    listed = seller_api.get(url(product)).json()["photos"]
    assert [p["alt_text"] for p in listed] == ["Back view", "Front"]

    gone = seller_api.delete(url(product, f"photos/{second.json()['id']}"))
    assert gone.status_code == 204
    assert [p["alt_text"] for p in seller_api.get(url(product)).json()["photos"]] == ["Front"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>hello</html>", "not a JPEG, PNG, WebP or GIF"),
        (image_bytes("PNG", (200, 200))[:60], "damaged or incomplete"),
    ],
)
def test_a_non_image_upload_is_400_on_the_image_field(seller_api, product, content, message):
    response = seller_api.post(
        url(product, "photos"), {"image": photo_file(content), "alt_text": "x"}
    )

    assert response.status_code == 400
    assert message in response.json()["error"]["fields"]["image"][0]
    assert not product.photos.exists()


def test_the_ninth_photo_is_400(seller_api, product):
    for _ in range(8):
        listings.photo_add(product=product, upload=photo_file(), alt_text="x")

    response = seller_api.post(url(product, "photos"), {"image": photo_file(), "alt_text": "x"})

    assert response.status_code == 400
    assert "at most 8 photos" in response.json()["error"]["fields"]["image"][0]


def test_the_public_api_shows_thumbnail_photos_shop_and_category(anon, seller_api, seller):
    Category.objects.create(name="Woodwork", slug="woodwork")
    product_id = create(seller_api, category="woodwork").json()["id"]
    product = Product.objects.get(pk=product_id)
    photo = listings.photo_add(product=product, upload=photo_file(), alt_text="Top view")

    listed = anon.get("/api/products/", {"category": "woodwork"}).json()["results"][0]
    detail = anon.get(f"/api/products/{product.slug}/").json()
    by_price = anon.get("/api/products/", {"sort": "price_desc"}).json()

    assert listed["thumbnail"] == {"url": photo.thumbnail.url, "alt": "Top view"}
    assert listed["category"] == "woodwork"
    assert listed["shop"] == {"slug": seller.storefront.slug, "name": seller.storefront.name}
    assert [p["alt_text"] for p in detail["photos"]] == ["Top view"]
    assert by_price["count"] == 1
    assert anon.get("/api/products/", {"sort": "cheap"}).status_code == 400


def test_the_apis_price_order_never_interleaves_currencies(anon):
    from tests.factories import ContractorFactory, ProductFactory

    seller = ContractorFactory(profile__charges_enabled=True, profile__stripe_id="acct_sorts")
    for currency, amount in (("usd", 1_000), ("jpy", 1_500), ("usd", 2_000), ("jpy", 100_000)):
        ProductFactory(seller=seller, currency=currency, price_amount=amount)

    def listed(sort):
        rows = anon.get("/api/products/", {"sort": sort}).json()["results"]
        return [(p["currency"], p["price_amount"]) for p in rows]

    assert listed("price_asc") == [("jpy", 1_500), ("jpy", 100_000), ("usd", 1_000), ("usd", 2_000)]
    assert listed("price_desc") == [
        ("usd", 2_000),
        ("usd", 1_000),
        ("jpy", 100_000),
        ("jpy", 1_500),
    ]
