"""The demo's listings (for `seed_demo`): categories, the two sellers' storefronts, and
product photos drawn with Pillow at seed time, so no binary file lives in git.

Everything goes through the same services as a seller's own clicks, and is made
once: a second run finds it all and adds nothing.
"""

import io

from PIL import Image, ImageDraw, ImageFont

from accounts.models import User

from .listings import photo_add
from .models import Category, Product
from .storefront import storefront_ensure, storefront_update

CATEGORIES = [("Woodwork", "woodwork"), ("Bike repair", "bike-repair"), ("Classes", "classes")]
# Product slug → (category slug, the two colours its pictures are drawn in).
PRODUCTS = {
    "oak-cutting-board": ("woodwork", (196, 150, 96), (120, 84, 48)),
    "walnut-bowl": ("woodwork", (110, 72, 50), (62, 40, 28)),
    "carving-class": ("classes", (214, 180, 120), (70, 110, 90)),
    "bike-tune-up": ("bike-repair", (60, 110, 170), (30, 50, 80)),
    "puncture-repair": ("bike-repair", (40, 40, 48), (200, 60, 50)),
    "wheel-truing": ("bike-repair", (150, 160, 170), (40, 90, 140)),
}
# Product slug → (kind, stock): goods that ship and services, some with a limited
# stock (None: no limit) and one sold out, so the demo shows each case. Set when the
# product is made (seed_demo), never again: a second run must not undo a sale.
KINDS_AND_STOCK = {
    "oak-cutting-board": (Product.Kind.SHIPPED, 12),
    "walnut-bowl": (Product.Kind.SHIPPED, 0),  # one of a kind, already sold
    "carving-class": (Product.Kind.SERVICE, 6),  # seats in the workshop
    "bike-tune-up": (Product.Kind.SERVICE, None),
    "puncture-repair": (Product.Kind.SERVICE, None),
    "wheel-truing": (Product.Kind.SERVICE, 20),
}
SHOPS = {
    "alice@example.com": (
        "alices-workshop",
        "Boards, bowls and carving lessons from a small workshop, finished by hand.",
    ),
    "bob@example.com": (
        "bobs-bike-repair",
        "Quick, honest bike repairs. Most jobs done while you wait.",
    ),
}
PHOTO_SIZE = (1200, 900)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # a Pillow built without FreeType: the small bitmap font
        return ImageFont.load_default()


def demo_photo(title: str, light: tuple, dark: tuple, *, detail: bool = False) -> bytes:
    """A plain product picture: a gradient, a shape standing for the product, its name."""
    width, height = PHOTO_SIZE
    image = Image.new("RGB", PHOTO_SIZE, light)
    draw = ImageDraw.Draw(image)
    for y in range(height):  # top light, bottom a little darker
        shade = tuple(int(c * (1 - 0.25 * y / height)) for c in light)
        draw.line([(0, y), (width, y)], fill=shade)
    if detail:
        draw.ellipse([300, 150, 900, 750], fill=dark, outline=(255, 255, 255), width=12)
    else:
        draw.rounded_rectangle([200, 220, 1000, 640], radius=60, fill=dark)
    draw.text((width // 2, 800), title, fill=(255, 255, 255), font=_font(64), anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def demo_listings_seed(*, sellers: list[User]) -> int:
    """Categories, storefronts and photos for the demo sellers' products; the number of
    rows made (0 when it all exists already)."""
    made = 0
    categories = {}
    for name, slug in CATEGORIES:
        categories[slug], new = Category.objects.get_or_create(slug=slug, defaults={"name": name})
        made += new
    for seller in sellers:
        made += _storefront(seller)
        for product in Product.objects.filter(seller=seller, slug__in=PRODUCTS):
            made += _product(product, categories)
    return made


def _storefront(seller: User) -> int:
    if hasattr(seller, "storefront"):
        return 0
    slug, description = SHOPS[seller.email]
    storefront = storefront_ensure(seller=seller)
    storefront_update(
        storefront=storefront, name=storefront.name, slug=slug, description=description
    )
    return 1


def _product(product: Product, categories: dict[str, Category]) -> int:
    category, light, dark = PRODUCTS[product.slug]
    made = 0
    if product.category_id is None:
        product.category = categories[category]
        product.save(update_fields=["category", "updated_at"])
    if not product.photos.exists():
        for detail, alt in ((False, product.title), (True, f"{product.title}, close up")):
            picture = io.BytesIO(demo_photo(product.title, light, dark, detail=detail))
            photo_add(product=product, upload=picture, alt_text=alt)
            made += 1
    return made
