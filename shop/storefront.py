"""Sellers' storefronts: the public page /shops/<slug>/ with the shop's name,
description, logo and live products. These services are the only writers."""

import re
import secrets
from typing import IO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.models import User

from .images import logo_encode
from .models import Storefront

SLUG_MAX = 60
# As the database's check (shop_storefront_slug_lowercase): one way to write each address.
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def storefront_slug_free(slug: str, *, exclude_pk: int | None = None) -> bool:
    """Whether no other shop has this address."""
    others = Storefront.objects.filter(slug=slug)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return not others.exists()


def _new_slug(name: str) -> str:
    # slugify keeps underscores and may leave double hyphens; addresses have neither.
    base = re.sub(r"[^a-z0-9]+", "-", slugify(name))[: SLUG_MAX - 7].strip("-") or "shop"
    if storefront_slug_free(base):
        return base
    return f"{base}-{secrets.token_hex(3)}"


def storefront_ensure(*, seller: User) -> Storefront:
    """The seller's storefront, made from their profile's name the first time."""
    existing = Storefront.objects.filter(seller=seller).first()
    if existing is not None:
        return existing
    name = seller.profile.name
    try:
        with transaction.atomic():
            return Storefront.objects.create(seller=seller, name=name, slug=_new_slug(name))
    except IntegrityError:
        # Made in parallel (two first products at once), or the slug was just taken.
        existing = Storefront.objects.filter(seller=seller).first()
        if existing is not None:
            return existing
        return Storefront.objects.create(
            seller=seller, name=name, slug=f"{_new_slug(name)[:52]}-{secrets.token_hex(3)}"
        )


def storefront_update(
    *,
    storefront: Storefront,
    name: str,
    slug: str,
    description: str,
    logo: IO[bytes] | None = None,
    remove_logo: bool = False,
) -> Storefront:
    """Change the shop's page. A new logo is re-encoded like a photo (raises
    images.ImageRejected); the file it replaces is removed after the change commits."""
    new_logo = None
    if logo is not None:
        encoded = logo_encode(logo)
        new_logo = default_storage.save(
            f"shops/{storefront.seller_id}/logo-{secrets.token_hex(8)}.jpg",
            ContentFile(encoded.content),
        )
    old_logo = storefront.logo.name if (new_logo or remove_logo) else ""
    storefront.name, storefront.slug, storefront.description = name, slug, description
    if new_logo or remove_logo:
        storefront.logo.name = new_logo or ""
    try:
        with transaction.atomic():
            storefront.save()
            if old_logo:
                transaction.on_commit(lambda: default_storage.delete(old_logo))
    except BaseException:
        if new_logo:
            default_storage.delete(new_logo)
        raise
    return storefront
