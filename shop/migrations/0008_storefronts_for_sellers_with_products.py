"""A storefront for every contractor who has products but no shop yet: those who
listed before shops existed, or whose products staff added in admin. Product pages
link to the seller's shop, and had nothing to link to for them.

The name and address are made as shop.storefront.storefront_ensure makes them (the
profile's display name, else the email's local part), with the rule copied here:
a migration must keep doing what it did when the app's code changes.
"""

import re
import secrets

from django.db import migrations
from django.utils.text import slugify

SLUG_MAX = 60  # Storefront.slug's max_length
NAME_MAX = 100  # Storefront.name's max_length


def _name(display_name: str, email: str) -> str:
    return (display_name or email.split("@")[0])[:NAME_MAX]


def _slug(name: str, taken: set[str]) -> str:
    # Lower-case words joined by single hyphens (the table's check constraint), with a
    # random suffix when another shop has the address already.
    base = re.sub(r"[^a-z0-9]+", "-", slugify(name))[: SLUG_MAX - 7].strip("-") or "shop"
    slug = base
    while slug in taken:
        slug = f"{base}-{secrets.token_hex(3)}"
    taken.add(slug)
    return slug


def storefronts_create(apps, schema_editor):
    Product = apps.get_model("shop", "Product")
    Storefront = apps.get_model("shop", "Storefront")
    UserProfile = apps.get_model("accounts", "UserProfile")

    profiles = (
        UserProfile.objects.filter(role="contractor")
        .filter(user_id__in=Product.objects.values("seller_id"))
        .exclude(user_id__in=Storefront.objects.values("seller_id"))
        .select_related("user")
        .order_by("user_id")
    )
    taken = set(Storefront.objects.values_list("slug", flat=True))
    shops = []
    for profile in profiles:
        name = _name(profile.display_name, profile.user.email)
        shops.append(Storefront(seller_id=profile.user_id, name=name, slug=_slug(name, taken)))
    Storefront.objects.bulk_create(shops, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0007_shipping_addresses_and_tracking"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        # Backwards: nothing to undo; the shops made here are like any other now.
        migrations.RunPython(storefronts_create, migrations.RunPython.noop),
    ]
