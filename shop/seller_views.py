"""Sellers' pages under /sell/: their products, photos and shop.

Contractors only (buyers get a 403, visitors the login page); a product or photo
that is not the seller's own is a 404, as if it did not exist.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.connect_views import contractor_required

from . import listings, selectors
from .fees import platform_fee
from .forms import PhotoAltForm, PhotoForm, ProductForm, StorefrontForm
from .images import ImageRejected
from .models import Product, ProductPhoto, Storefront
from .storefront import storefront_ensure, storefront_update


def _own_product(request, product_id: int) -> Product:
    try:
        return selectors.seller_product_get(seller=request.user, product_id=product_id)
    except Product.DoesNotExist:
        raise Http404("No such product.") from None


def _own_photo(request, product_id: int, photo_id: int) -> ProductPhoto:
    try:
        return selectors.seller_photo_get(
            seller=request.user, product_id=product_id, photo_id=photo_id
        )
    except ProductPhoto.DoesNotExist:
        raise Http404("No such photo.") from None


PER_PAGE = 30


@contractor_required
@require_safe
def product_list(request):
    archived = request.GET.get("show") == "archived"
    products = selectors.seller_product_list(seller=request.user, archived=archived)
    page = Paginator(products, PER_PAGE).get_page(request.GET.get("page"))
    for product in page.object_list:
        # Shown on each product: what a sale at this price leaves the seller.
        product.fee = platform_fee(product.price_amount)
        product.seller_net = product.price_amount - product.fee
    archived_count = (
        page.paginator.count
        if archived
        else selectors.seller_product_list(seller=request.user, archived=True).count()
    )
    context = {
        "page": page,
        "products": page.object_list,
        "archived": archived,
        "archived_count": archived_count,
        "can_charge": request.user.profile.can_take_charges,
        "storefront": selectors.storefront_of(seller=request.user),
    }
    return render(request, "shop/seller/product_list.html", context)


@contractor_required
@require_http_methods(["GET", "POST"])
def product_new(request):
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        product = listings.product_create(seller=request.user, **form.listing_changes())
        messages.success(request, f"“{product.title}” is listed. Now add some photos.")
        return redirect("shop:seller_product_edit", product_id=product.pk)
    return render(request, "shop/seller/product_form.html", {"form": form})


def _edit_page(request, product: Product, *, form=None, photo_form=None):
    context = {
        "product": product,
        "form": form or ProductForm(instance=product),
        "photo_form": photo_form or PhotoForm(),
        "photos": [(photo, PhotoAltForm.for_photo(photo)) for photo in product.photos.all()],
        "max_photos": listings.MAX_PHOTOS,
        "can_charge": request.user.profile.can_take_charges,
    }
    return render(request, "shop/seller/product_form.html", context)


@contractor_required
@require_http_methods(["GET", "POST"])
def product_edit(request, product_id: int):
    product = _own_product(request, product_id)
    if product.archived_at is not None:
        messages.info(request, f"“{product.title}” is archived: it can no longer be changed.")
        return redirect(_list_url(archived=True))
    if request.method == "GET":
        return _edit_page(request, product)
    # The form validates a copy: a refused change must not show on `product` below.
    form = ProductForm(request.POST, instance=_own_product(request, product_id))
    if not form.is_valid():
        return _edit_page(request, product, form=form)
    try:
        listings.product_update(product=product, changes=form.listing_changes())
    except listings.ListingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your changes are saved.")
    return redirect("shop:seller_product_edit", product_id=product.pk)


def _list_url(*, archived: bool = False) -> str:
    return reverse("shop:seller_products") + ("?show=archived" if archived else "")


def _state_change(request, product_id: int, service, done: str):
    product = _own_product(request, product_id)
    try:
        product = service(product=product)
    except listings.ListingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done.format(title=product.title))
    return redirect(_list_url())


@contractor_required
@require_POST
def product_pause(request, product_id: int):
    done = "“{title}” is paused: buyers no longer see it."
    return _state_change(request, product_id, listings.product_pause, done)


@contractor_required
@require_POST
def product_unpause(request, product_id: int):
    done = "“{title}” is live again."
    return _state_change(request, product_id, listings.product_unpause, done)


@contractor_required
@require_POST
def product_archive(request, product_id: int):
    done = "“{title}” is archived. Orders that bought it still show it."
    return _state_change(request, product_id, listings.product_archive, done)


# --- Photos ------------------------------------------------------------------------


def _back_to_photos(product_id: int):
    return redirect(reverse("shop:seller_product_edit", args=[product_id]) + "#photos")


@contractor_required
@require_POST
def photo_add(request, product_id: int):
    product = _own_product(request, product_id)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            listings.photo_add(
                product=product,
                upload=form.cleaned_data["image"],
                alt_text=form.cleaned_data["alt_text"],
            )
        except (ImageRejected, listings.PhotoError) as exc:
            form.add_error("image", str(exc))
        except listings.ListingError as exc:
            messages.error(request, str(exc))
            return redirect(_list_url(archived=True))
        else:
            messages.success(request, "Photo added.")
            return _back_to_photos(product.pk)
    return _edit_page(request, product, photo_form=form)


@contractor_required
@require_POST
def photo_update(request, product_id: int, photo_id: int):
    photo = _own_photo(request, product_id, photo_id)
    form = PhotoAltForm.for_photo(photo, data=request.POST)
    if not form.is_valid():
        messages.error(request, "Describe the photo in 1 to 200 characters.")
    elif _photo_change(
        request, listings.photo_update, photo=photo, alt_text=form.cleaned_data["alt_text"]
    ):
        messages.success(request, "Photo description saved.")
    return _back_to_photos(product_id)


def _photo_change(request, service, **kwargs) -> bool:
    try:
        service(**kwargs)
    except listings.ListingError as exc:
        messages.error(request, str(exc))
        return False
    return True


@contractor_required
@require_POST
def photo_move(request, product_id: int, photo_id: int):
    photo = _own_photo(request, product_id, photo_id)
    step = -1 if request.POST.get("direction") == "up" else 1
    _photo_change(request, listings.photo_move, photo=photo, position=photo.position + step)
    return _back_to_photos(product_id)


@contractor_required
@require_POST
def photo_delete(request, product_id: int, photo_id: int):
    photo = _own_photo(request, product_id, photo_id)
    if _photo_change(request, listings.photo_delete, photo=photo):
        messages.success(request, "Photo deleted.")
    return _back_to_photos(product_id)


# --- The seller's shop -------------------------------------------------------------


@contractor_required
@require_http_methods(["GET", "POST"])
def storefront_edit(request):
    # Made on the first visit too (named after the profile), so the page always has a
    # shop to show and link to, even before the first product.
    storefront = storefront_ensure(seller=request.user)
    posted = request.method == "POST"
    form = StorefrontForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        instance=Storefront.objects.get(pk=storefront.pk),  # the form edits its own copy
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            storefront_update(
                storefront=storefront,
                name=data["name"],
                slug=data["slug"],
                description=data["description"],
                logo=data["logo_upload"],
                remove_logo=data.get("remove_logo", False),  # offered only with a logo
            )
        except ImageRejected as exc:
            form.add_error("logo_upload", str(exc))
        except IntegrityError:  # another shop took the address since the form checked
            form.add_error("slug", "Another shop has this address. Choose another.")
        else:
            messages.success(request, "Your shop page is saved.")
            return redirect("shop:seller_storefront")
    return render(
        request, "shop/seller/storefront_form.html", {"form": form, "storefront": storefront}
    )
