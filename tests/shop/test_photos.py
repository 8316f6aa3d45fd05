"""Product photos: checked by content, size-capped, re-encoded without EXIF, thumbnailed
once, stored through Django's storage, at most eight, in the seller's order."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from shop import listings
from shop.images import THUMBNAIL_SIZE, ImageRejected, logo_encode
from shop.models import ProductPhoto
from tests.factories import PDF_BYTES, ProductFactory, image_bytes
from tests.shop.conftest import jpeg_with_exif

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(seller):
    return ProductFactory(seller=seller, title="Oak board")


def add(product, content=None, alt="Oak board, top view"):
    return listings.photo_add(
        product=product, upload=io.BytesIO(content or image_bytes()), alt_text=alt
    )


def stored(name: str) -> Image.Image:
    with default_storage.open(name) as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


def test_a_photo_is_stored_re_encoded_with_a_thumbnail_made_once(product, settings, tmp_path):
    photo = add(product, image_bytes("PNG", (800, 500)))

    full, thumbnail = stored(photo.image.name), stored(photo.thumbnail.name)
    assert (full.format, full.size) == ("JPEG", (800, 500))
    assert (photo.width, photo.height) == (800, 500)
    assert (thumbnail.format, thumbnail.size) == ("JPEG", THUMBNAIL_SIZE)
    assert photo.alt_text == "Oak board, top view"
    # Through STORAGES' default (files under MEDIA_ROOT), with names that are ours.
    assert (settings.MEDIA_ROOT / photo.image.name).is_file()
    assert (settings.MEDIA_ROOT / photo.thumbnail.name).is_file()
    assert photo.image.name.startswith(f"products/{product.pk}/")
    assert photo.image.url.startswith(settings.MEDIA_URL if "://" in settings.MEDIA_URL else "/")


def test_exif_is_stripped_and_the_photo_turned_upright(product):
    original = jpeg_with_exif(size=(64, 32), orientation=6)  # "rotate 90° to view"
    assert Image.open(io.BytesIO(original)).getexif()[0x010F] == "SpyCam"

    photo = add(product, original)

    for name in (photo.image.name, photo.thumbnail.name):
        with default_storage.open(name) as file:
            data = file.read()
        assert b"SpyCam" not in data
        assert b"Model 7" not in data
        assert dict(Image.open(io.BytesIO(data)).getexif()) == {}
    assert (photo.width, photo.height) == (32, 64)  # turned as the camera meant


def test_large_photos_are_scaled_down(product):
    photo = add(product, image_bytes("JPEG", (3000, 1500)))

    assert (photo.width, photo.height) == (2000, 1000)


def test_transparent_png_is_flattened_onto_white(product):
    image = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")

    photo = add(product, buffer.getvalue())

    assert stored(photo.image.name).getpixel((5, 5))[0] > 240


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "not a JPEG, PNG, WebP or GIF"),
        (PDF_BYTES, "not a JPEG, PNG, WebP or GIF"),
        (image_bytes("BMP"), "not a JPEG, PNG, WebP or GIF"),  # an image, not one we take
        (image_bytes("PNG", (200, 200))[:60], "damaged or incomplete"),
    ],
    ids=["html", "pdf", "bmp", "truncated-png"],
)
def test_a_file_that_is_not_an_accepted_image_is_refused_and_nothing_stored(
    product, content, message, settings
):
    with pytest.raises(ImageRejected, match=message):
        add(product, content)

    assert not product.photos.exists()
    assert not (settings.MEDIA_ROOT / "products").exists()


def test_too_many_pixels_is_refused_before_decoding(product):
    huge = Image.new("1", (10_000, 5_000))  # 50 megapixels in a few kilobytes
    buffer = io.BytesIO()
    huge.save(buffer, format="PNG")

    with pytest.raises(ImageRejected, match="too many pixels"):
        add(product, buffer.getvalue())


def test_a_phones_48_megapixel_jpeg_is_taken_and_a_png_that_large_is_not(product, settings):
    """A JPEG is decoded at a reduced scale (a quarter of the memory here), so the
    pixel limit counts what is decoded; a PNG cannot be, and 30 megapixels are refused."""
    settings.PRODUCT_PHOTO_MAX_BYTES = 10 * 1024 * 1024
    camera = io.BytesIO()
    Image.new("RGB", (8000, 6000), (120, 80, 40)).save(camera, format="JPEG", quality=80)
    photo = add(product, camera.getvalue())
    assert max(photo.image.width, photo.image.height) == 2000

    flat = io.BytesIO()
    Image.new("RGB", (6000, 5000), (120, 80, 40)).save(flat, format="PNG")
    with pytest.raises(ImageRejected, match="too many pixels"):
        add(product, flat.getvalue())


def test_files_above_the_size_setting_are_refused(product, settings):
    settings.PRODUCT_PHOTO_MAX_BYTES = 1000
    content = jpeg_with_exif(size=(300, 300))
    assert len(content) > 1000

    with pytest.raises(ImageRejected, match="Images must be 1000"):
        add(product, content)


def test_at_most_eight_photos(product):
    for _ in range(listings.MAX_PHOTOS):
        add(product)

    with pytest.raises(listings.PhotoError, match="at most 8 photos"):
        add(product)
    assert product.photos.count() == 8


def test_photos_keep_the_sellers_order_and_the_first_is_the_cover(product):
    first, second, third = (add(product, alt=f"Photo {n}") for n in (1, 2, 3))

    listings.photo_move(photo=third, position=0)

    assert [p.alt_text for p in product.photos.all()] == ["Photo 3", "Photo 1", "Photo 2"]
    assert list(product.photos.values_list("position", flat=True)) == [0, 1, 2]
    product.refresh_from_db()
    assert product.cover.alt == "Photo 3"
    assert product.cover.url == default_storage.url(third.thumbnail.name)


def test_deleting_a_photo_removes_its_files_after_commit(
    product, django_capture_on_commit_callbacks
):
    keep, gone = add(product, alt="Keep"), add(product, alt="Gone")
    listings.photo_move(photo=gone, position=0)
    gone.refresh_from_db()
    names = [gone.image.name, gone.thumbnail.name]

    with django_capture_on_commit_callbacks(execute=True):
        listings.photo_delete(photo=gone)

    assert not any(default_storage.exists(name) for name in names)
    assert default_storage.exists(keep.image.name)
    assert list(ProductPhoto.objects.values_list("alt_text", "position")) == [("Keep", 0)]


def test_an_archived_products_photos_cannot_be_changed_by_the_seller(product):
    photo = add(product)
    listings.product_archive(product=product)

    with pytest.raises(listings.ListingError):
        add(product)
    with pytest.raises(listings.ListingError):
        listings.photo_update(photo=photo, alt_text="New")
    with pytest.raises(listings.ListingError):
        listings.photo_delete(photo=photo)
    listings.photo_delete(photo=photo, by_staff=True)  # staff may still take one down
    assert not product.photos.exists()


def test_logos_are_re_encoded_and_kept_small():
    encoded = logo_encode(io.BytesIO(jpeg_with_exif(size=(1000, 500))))

    image = Image.open(io.BytesIO(encoded.content))
    assert image.size == (320, 160)
    assert b"SpyCam" not in encoded.content
