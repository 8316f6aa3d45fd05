"""/api/seller/storefront/: a contractor reads and edits their own shop page (name,
description, logo); nobody else's, and no one but contractors."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shop.models import Storefront
from tests.api.conftest import client_for
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db

URL = "/api/seller/storefront/"
LOGO = "/api/seller/storefront/logo/"


def test_the_seller_reads_their_shop_made_from_their_name(seller, seller_api):
    response = seller_api.get(URL)

    assert response.status_code == 200
    body = response.json()
    shop = Storefront.objects.get(seller=seller)
    assert body["slug"] == shop.slug
    assert body["name"] == seller.profile.name
    assert body["url"] == f"/shops/{shop.slug}/"
    assert body["logo_url"] is None


def test_the_seller_changes_name_and_description_and_only_their_own(
    seller, seller_api, other_seller
):
    other_shop = client_for(other_seller).get(URL).json()

    response = seller_api.patch(
        URL, {"name": "Oak & Iron", "description": "Boards and bowls."}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == (
        "Oak & Iron",
        "Boards and bowls.",
    )
    assert Storefront.objects.get(seller=seller).name == "Oak & Iron"
    assert Storefront.objects.get(seller=other_seller).name == other_shop["name"]
    # Only what was sent changes.
    seller_api.patch(URL, {"description": ""}, format="json")
    assert Storefront.objects.get(seller=seller).name == "Oak & Iron"


def test_a_logo_is_uploaded_re_encoded_and_replaced(seller_api, seller):
    logo = SimpleUploadedFile("logo.png", image_bytes("PNG", (640, 200)), "image/png")

    response = seller_api.post(LOGO, {"logo": logo}, format="multipart")

    assert response.status_code == 200, response.json()
    shop = Storefront.objects.get(seller=seller)
    assert shop.logo.name.endswith(".jpg")
    with default_storage.open(shop.logo.name) as stored:
        assert Image.open(stored).format == "JPEG"  # never stored as uploaded
    assert response.json()["logo_url"].endswith(shop.logo.name)

    removed = seller_api.patch(URL, {"remove_logo": True}, format="json")
    assert removed.json()["logo_url"] is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"description": "x" * 5001}, "description"),
        ({"description": 0}, "description"),
        ({"name": ["Oak"]}, "name"),
    ],
)
def test_bad_input_is_a_field_error(seller_api, data, field):
    response = seller_api.patch(URL, data, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_file_that_is_not_an_image_is_refused_on_the_logo_field(seller_api):
    fake = SimpleUploadedFile("logo.png", b"<html>hello</html>", "image/png")
    response = seller_api.post(LOGO, {"logo": fake}, format="multipart")
    assert response.status_code == 400
    assert "logo" in response.json()["error"]["fields"]


def test_only_contractors_have_a_shop_to_edit(buyer_api, anon):
    assert buyer_api.get(URL).status_code == 403
    assert buyer_api.patch(URL, {"name": "Mine now"}, format="json").status_code == 403
    assert anon.patch(URL, {"name": "Mine now"}, format="json").status_code in (401, 403)
    assert buyer_api.post(LOGO, {}, format="multipart").status_code == 403
    assert not Storefront.objects.exists()


def test_remove_logo_takes_a_json_boolean_only(seller_api):
    response = seller_api.patch(URL, {"remove_logo": 0}, format="json")
    assert response.status_code == 400
    assert "remove_logo" in response.json()["error"]["fields"]
