"""Sellers' listings: the services that create, change, pause and archive products
and manage their photos. Web pages, the API and admin all come through here.

A product is live (`active`), paused (not active) or archived (`archived_at` set,
never active again). Nothing is deleted: past orders' items keep pointing at their
product. Photo files are written before the row that names them and removed only
after the row's deletion commits, so a failure leaves at worst an unused file,
never a row without its file.
"""

import secrets
from collections.abc import Iterable
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User, UserProfile

from .images import Encoded, photo_encode
from .models import Category, Product, ProductPhoto
from .prices import price_check
from .services import product_save
from .storefront import storefront_ensure

MAX_PHOTOS = 8
# What a seller may change with product_update (the rest is the platform's).
EDITABLE_FIELDS = frozenset(
    {"title", "description", "price_amount", "currency", "category", "stock", "kind"}
)


class ListingError(Exception):
    """A change the product's state does not allow; the message is fit to show."""


class PhotoError(ValueError):
    """A photo that was not added; the message is fit to show next to the file field."""


def _seller_check(seller: User) -> None:
    profile = getattr(seller, "profile", None)
    if profile is None or profile.role != UserProfile.Role.CONTRACTOR:
        raise PermissionError("Only contractor accounts can sell.")


def _free_slug(base: str) -> str:
    """`base`, or `base-<random>` when a product has it already."""
    if not Product.objects.filter(slug=base).exists():
        return base
    return f"{base}-{secrets.token_hex(3)}"


def product_create(
    *,
    seller: User,
    title: str,
    description: str,
    price_amount: int,
    currency: str,
    category: Category | None = None,
    stock: int | None = None,
    kind: str = Product.Kind.SERVICE,
) -> Product:
    """A new live product of `seller` (a contractor); its slug comes from the title.
    `stock`: how many can be sold (None: no limit). `kind`: shipped goods (buyers give
    an address at checkout) or a service.

    The price is checked again here (the forms did it for their messages), so no
    path can list a price the fee would eat. The seller's storefront is made with
    their first product, so the product page always has a shop to link to.
    """
    _seller_check(seller)
    price_check(price_amount, currency)
    base = slugify(title)[:200] or "product"
    for _attempt in range(3):
        product = Product(
            seller=seller,
            title=title,
            slug=_free_slug(base),
            description=description,
            price_amount=price_amount,
            currency=currency,
            category=category,
            stock=stock,
            kind=kind,
        )
        try:
            with transaction.atomic():
                product_save(product=product)
                storefront_ensure(seller=seller)
        except IntegrityError:
            # Another product took the slug between the check and the insert.
            base = f"{base[:190]}-{secrets.token_hex(3)}"
            continue
        return product
    raise IntegrityError("Could not find a free slug for the product.")


def _locked(product: Product) -> Product:
    """The product's row, locked (call inside transaction.atomic)."""
    return Product.objects.select_for_update().get(pk=product.pk)


def _editable(product: Product) -> None:
    if product.archived_at is not None:
        raise ListingError("This product is archived: it can no longer be changed.")


def product_update(*, product: Product, changes: dict[str, Any]) -> Product:
    """Change a product's own fields (title, description, price, currency, category,
    stock: how many can be sold from now on, None for no limit).

    Orders already placed keep the title and price they were bought at (OrderItem),
    and the stock they hold: a new stock counts from here.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = _locked(product)
        _editable(locked)
        changed = [name for name, value in changes.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, changes[name])
        price_check(locked.price_amount, locked.currency)
        if changed:
            product_save(product=locked, update_fields=[*changed, "updated_at"])
    return locked


def _set_active(product: Product, active: bool) -> Product:
    with transaction.atomic():
        locked = _locked(product)
        _editable(locked)
        if locked.active != active:
            locked.active = active
            locked.save(update_fields=["active", "updated_at"])
    return locked


def product_pause(*, product: Product) -> Product:
    """Take a live product out of the catalogue for now; pausing twice changes nothing."""
    return _set_active(product, False)


def product_unpause(*, product: Product) -> Product:
    """Put a paused product back in the catalogue (not an archived one)."""
    return _set_active(product, True)


def product_archive(*, product: Product) -> Product:
    """Withdraw a product for good: out of the catalogue and the seller's editing,
    still on the orders that bought it. Archiving twice changes nothing."""
    with transaction.atomic():
        locked = _locked(product)
        if locked.archived_at is None:
            locked.active = False
            locked.archived_at = timezone.now()
            locked.save(update_fields=["active", "archived_at", "updated_at"])
    return locked


# --- Photos ------------------------------------------------------------------------


def _photo_names(product: Product) -> tuple[str, str]:
    # Random names: nothing of the uploader's file name reaches a URL.
    stem = f"products/{product.pk}/{secrets.token_hex(12)}"
    return f"{stem}.jpg", f"{stem}-thumb.jpg"


def _store(name: str, encoded: Encoded) -> str:
    return default_storage.save(name, ContentFile(encoded.content))


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def photo_add(*, product: Product, upload: IO[bytes], alt_text: str) -> ProductPhoto:
    """Add a photo at the end of the product's photos (at most MAX_PHOTOS).

    The upload is decoded and re-encoded first (raises images.ImageRejected), its
    files written, then the row added under the product's lock so that two uploads
    at once cannot pass the limit together.
    """
    # Refused early when it surely fails (no decoding for nothing); checked again below.
    _editable(product)
    if product.photos.count() >= MAX_PHOTOS:
        raise PhotoError(f"A product has at most {MAX_PHOTOS} photos. Delete one first.")
    full, thumbnail = photo_encode(upload)
    image_name, thumbnail_name = _photo_names(product)
    stored: list[str] = []
    try:
        stored.append(_store(image_name, full))
        stored.append(_store(thumbnail_name, thumbnail))
        with transaction.atomic():
            locked = _locked(product)
            _editable(locked)
            positions = list(locked.photos.values_list("position", flat=True))
            if len(positions) >= MAX_PHOTOS:
                raise PhotoError(f"A product has at most {MAX_PHOTOS} photos. Delete one first.")
            return ProductPhoto.objects.create(
                product=locked,
                image=stored[0],
                thumbnail=stored[1],
                width=full.width,
                height=full.height,
                alt_text=alt_text,
                position=max(positions, default=-1) + 1,
            )
    except BaseException:
        _delete_files(stored)
        raise


def photo_update(*, photo: ProductPhoto, alt_text: str) -> ProductPhoto:
    """Change a photo's alternative text."""
    with transaction.atomic():
        _editable(_locked(photo.product))
        if photo.alt_text != alt_text:
            photo.alt_text = alt_text
            photo.save(update_fields=["alt_text"])
    return photo


def photo_move(*, photo: ProductPhoto, position: int) -> list[ProductPhoto]:
    """Put a photo at `position` (0 = first, shown in lists), the others keeping their
    order; returns the product's photos in their new order."""
    with transaction.atomic():
        _editable(_locked(photo.product))
        photos = list(ProductPhoto.objects.filter(product_id=photo.product_id))
        moving = next(p for p in photos if p.pk == photo.pk)
        photos.remove(moving)
        photos.insert(max(0, min(position, len(photos))), moving)
        _renumber(photos)
    return photos


def _renumber(photos: list[ProductPhoto]) -> None:
    changed = []
    for index, photo in enumerate(photos):
        if photo.position != index:
            photo.position = index
            changed.append(photo)
    ProductPhoto.objects.bulk_update(changed, ["position"])


def photo_delete(*, photo: ProductPhoto, by_staff: bool = False) -> None:
    """Remove a photo; its files go once the deletion has committed. Staff may remove
    one from an archived product too (the seller no longer can)."""
    with transaction.atomic():
        locked = _locked(photo.product)
        if not by_staff:
            _editable(locked)
        names = [photo.image.name, photo.thumbnail.name]
        photo.delete()
        _renumber(list(ProductPhoto.objects.filter(product_id=photo.product_id)))
        transaction.on_commit(lambda: _delete_files(names))
