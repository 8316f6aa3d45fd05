"""Every admin URL and action, for every kind of staff: who may, and who may not.

The matrix is built from `admin.site._registry`, so a new model admin is walked
without anyone listing it here. For each ModelAdmin: changelist, add, change,
delete and history (GET, and POST where a POST does something), every URL of its
own `get_urls()`, and every action; plus the admin URLs mounted outside
`admin.site.urls` (reconciliation and its CSV). Four users each:

- superuser,
- staff with no permission,
- staff with every `view_*` permission,
- staff with exactly the permissions the URL or action needs.

A user lacking a permission gets a 403 (or the action is not offered), and a POST
changes nothing: no row, no Celery task, no Stripe call. Whoever holds it gets the
page or the effect. A custom admin URL or action this file cannot classify fails
`test_every_*_is_classified`, so nothing new slips in unchecked: add it to
CUSTOM_URLS, CUSTOM_ACTION_PERMISSIONS / ACTION_SPECS or BUILDERS below.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from unittest import mock

import pytest
from celery.app.task import Task
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import Model
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import CustomerEmailSync, User, UserProfile
from accounts.services import profile_create
from notifications.models import Notification
from payments import gateway
from payments.admin.payments import refund_url
from payments.admin.reconcile import RECONCILE_PERMISSIONS
from payments.installation import Installation
from payments.models import (
    BalanceSnapshot,
    ContractorDebit,
    Dispute,
    DisputeAction,
    Payment,
    Payout,
    PayoutRequest,
    PayoutSchedule,
    Refund,
    StripeEvent,
    Transfer,
    TransferReversal,
)
from payments.tasks import (
    customer_email_sync_task,
    debit_execute_task,
    dispute_action_execute_task,
    event_process_task,
    payment_cancel_task,
    payment_capture_task,
    payout_request_execute_task,
    refund_execute_task,
    transfer_execute_task,
    transfer_reversal_execute_task,
)
from shop.models import Category, Order, Product, ProductPhoto, SavedAddress, Storefront
from tests.factories import (
    OrderFactory,
    OrderItemFactory,
    PaymentFactory,
    ProductFactory,
    RefundFactory,
)

pytestmark = pytest.mark.django_db

USERS = ("superuser", "no_perms", "view_only", "exact")
STRONG_PASSWORD = "Zq8!vT3#pLm9-wX"

# --- Objects the pages and actions work on -----------------------------------------

_seq = itertools.count(1)


def make_user(**fields) -> User:
    # No factory: hashing a password costs more than the rest of a test.
    return User.objects.create(email=f"user{next(_seq)}@example.com", **fields)


def make_contractor() -> User:
    user = make_user()
    profile = profile_create(user=user, role=UserProfile.Role.CONTRACTOR)
    profile.stripe_id = f"acct_test{user.pk}"
    profile.save(update_fields=["stripe_id"])
    return user


def make_buyer() -> User:
    user = make_user()
    profile_create(user=user, role=UserProfile.Role.BUYER)
    return user


def make_order(status: str = Order.Status.PENDING) -> Order:
    return OrderFactory(buyer=make_buyer(), seller=make_contractor(), status=status)


def make_payment(status: str) -> Payment:
    order = make_order(
        Order.Status.CAPTURED if status == Payment.Status.CAPTURED else Order.Status.AUTHORIZED
    )
    fields = {"amount_authorized": order.amount}
    if status == Payment.Status.CAPTURED:
        fields.update(amount_captured=order.amount, stripe_charge_id=f"ch_test{order.pk}")
    return PaymentFactory(order=order, status=status, **fields)


def make_transfer() -> Transfer:
    payment = make_payment(Payment.Status.CAPTURED)
    return Transfer.objects.create(
        payment=payment,
        amount=100,
        currency="usd",
        destination_account=payment.destination_account,
        transfer_group="checkout-test",
        source_charge=payment.stripe_charge_id,
        status=Transfer.Status.SUCCEEDED,
        stripe_transfer_id=f"tr_test{payment.pk}",
    )


def make_dispute() -> Dispute:
    payment = make_payment(Payment.Status.CAPTURED)
    return Dispute.objects.create(
        stripe_dispute_id=f"dp_test{payment.pk}",
        stripe_charge_id=payment.stripe_charge_id,
        payment=payment,
        order=payment.order,
        status=Dispute.Status.NEEDS_RESPONSE,
        amount=payment.amount_captured,
        currency="usd",
    )


def make_reversal() -> TransferReversal:
    transfer = make_transfer()
    return TransferReversal.objects.create(
        transfer=transfer,
        refund=RefundFactory(payment=transfer.payment),
        amount=50,
        currency="usd",
        status=TransferReversal.Status.SUCCEEDED,
        stripe_reversal_id=f"trr_test{transfer.pk}",
    )


def make_axes(model_name: str, **fields) -> Model:
    model = apps.get_model("axes", model_name)
    return model.objects.create(
        user_agent="test",
        ip_address="10.0.0.1",
        username="someone@example.com",
        http_accept="*/*",
        path_info="/accounts/login/",
        **fields,
    )


def make_expired_attempt() -> Model:
    attempt = make_axes("AccessAttempt", get_data="", post_data="", failures_since_start=1)
    type(attempt).objects.filter(pk=attempt.pk).update(
        attempt_time=timezone.now() - timedelta(days=30)
    )
    return attempt


def make_passwordless_user() -> User:
    user = make_user()
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


# One fresh object per registered model, with nothing depending on it (so a delete
# needs no permission on other models).
BUILDERS: dict[str, Callable[[], Model]] = {
    "accounts.user": make_user,
    "accounts.userprofile": lambda: make_contractor().profile,
    "auth.group": lambda: Group.objects.create(name=f"group{next(_seq)}"),
    "shop.product": lambda: ProductFactory(seller=make_contractor()),
    "shop.category": lambda: Category.objects.create(
        name=f"Category {(n := next(_seq))}", slug=f"category-{n}"
    ),
    "shop.productphoto": lambda: ProductPhoto.objects.create(
        product=ProductFactory(seller=make_contractor()),
        image="products/0/x.jpg",
        thumbnail="products/0/x-thumb.jpg",
        width=8,
        height=8,
        alt_text="A photo",
    ),
    "shop.storefront": lambda: Storefront.objects.create(
        seller=make_contractor(), name="A shop", slug=f"shop-{next(_seq)}"
    ),
    "shop.order": lambda: make_payment(Payment.Status.CAPTURED).order,
    "shop.orderitem": lambda: OrderItemFactory(order=make_order()),
    "payments.payment": lambda: make_payment(Payment.Status.CAPTURED),
    "payments.refund": lambda: RefundFactory(payment=make_payment(Payment.Status.CAPTURED)),
    "payments.stripeevent": lambda: StripeEvent.objects.create(
        stripe_id=f"evt_test{next(_seq)}",
        type="payment_intent.succeeded",
        endpoint=StripeEvent.Endpoint.PLATFORM,
        payload={},
        status=StripeEvent.Status.PROCESSED,
    ),
    "payments.balancesnapshot": lambda: BalanceSnapshot.objects.create(
        contractor=(c := make_contractor()),
        account=c.profile.stripe_id,
        currency="usd",
        available_amount=100,
        fetched_at=timezone.now(),
    ),
    "payments.contractordebit": lambda: ContractorDebit.objects.create(
        contractor=make_contractor(),
        amount=100,
        currency="usd",
        reason="No-show",
        method=ContractorDebit.Method.ACCOUNT_DEBIT,
    ),
    "payments.transfer": make_transfer,
    "payments.transferreversal": make_reversal,
    "payments.payout": lambda: Payout.objects.create(
        stripe_id=f"po_test{next(_seq)}",
        contractor=(c := make_contractor()),
        account=c.profile.stripe_id,
        amount=100,
        currency="usd",
        status="paid",
    ),
    "payments.payoutrequest": lambda: PayoutRequest.objects.create(
        contractor=(c := make_contractor()),
        account=c.profile.stripe_id,
        amount=100,
        currency="usd",
        status="sent",
    ),
    "payments.payoutschedule": lambda: PayoutSchedule.objects.create(
        contractor=(c := make_contractor()),
        account=c.profile.stripe_id,
        interval="daily",
        fetched_at=timezone.now(),
    ),
    "payments.dispute": lambda: make_dispute(),
    "payments.disputeaction": lambda: DisputeAction.objects.create(
        dispute=make_dispute(), kind=DisputeAction.Kind.SAVE_DRAFT, status="succeeded"
    ),
    "payments.installation": lambda: Installation.objects.get_or_create(pk=1)[0],
    "shop.savedaddress": lambda: SavedAddress.objects.create(
        buyer=make_user(), name="A buyer", line1="1 Main St", city="Springfield", country="US"
    ),
    "accounts.customeremailsync": lambda: CustomerEmailSync.objects.create(
        user=make_user(), customer=f"cus_test{next(_seq)}", email="new@example.com"
    ),
    "notifications.notification": lambda: Notification.objects.create(
        recipient=make_user(),
        kind="test",
        key=f"test-{next(_seq)}",
        subject="Hello",
        body_text="Hello",
    ),
    "knox.authtoken": lambda: apps.get_model("knox", "AuthToken").objects.create(user=make_user())[
        0
    ],
    "axes.accessattempt": lambda: make_axes(
        "AccessAttempt", get_data="", post_data="", failures_since_start=1
    ),
    "axes.accesslog": lambda: make_axes("AccessLog"),
    "axes.accessfailurelog": lambda: make_axes("AccessFailureLog"),
}


def build(label: str) -> Model:
    if label not in BUILDERS:
        pytest.fail(f"Add {label} to BUILDERS in {__name__} so its admin pages are walked.")
    return BUILDERS[label]()


# --- Side effects: Celery tasks, Stripe, reconciliation --------------------------


@dataclass
class SideEffects:
    tasks: list[tuple[str, tuple]]
    stripe: mock.Mock
    reconcile: mock.Mock


@pytest.fixture
def effects():
    """Record every task enqueued and every Stripe client use; run nothing."""
    tasks: list[tuple[str, tuple]] = []

    def record(task, args=None, kwargs=None, **options):
        tasks.append((task.name, tuple(args or ())))

    with (
        mock.patch.object(Task, "apply_async", record),
        mock.patch.object(gateway, "client") as stripe,
        mock.patch("payments.admin.reconcile.reconcile", return_value=[]) as reconcile,
    ):
        yield SideEffects(tasks, stripe, reconcile)


def registered_models() -> list[type[Model]]:
    return sorted(admin.site._registry, key=lambda m: m._meta.label_lower)


def snapshot(target: Model | None) -> tuple[dict, dict | None]:
    """Row counts of every admin's table (in one query) and the target's fields."""
    models = [*registered_models(), apps.get_model("admin", "LogEntry")]
    tables = [connection.ops.quote_name(m._meta.db_table) for m in models]
    with connection.cursor() as cursor:
        # Table names from the models' own metadata, quoted: nothing from outside.
        counts_sql = ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables)  # noqa: S608
        cursor.execute(f"SELECT {counts_sql}")  # noqa: S608
        counts = dict(zip((m._meta.label_lower for m in models), cursor.fetchone(), strict=True))
    return counts, (model_to_dict(target) if target is not None else None)


def assert_nothing_happened(before, target: Model | None, effects: SideEffects) -> None:
    counts, row = before
    after_counts, _ = snapshot(None)
    assert after_counts == counts, "rows were created or deleted"
    if target is not None:
        fresh = type(target)._default_manager.filter(pk=target.pk).first()
        assert fresh is not None, "the object was deleted"
        assert model_to_dict(fresh) == row, "the object was changed"
    assert effects.tasks == [], "a Celery task was enqueued"
    assert not effects.stripe.called, "Stripe was called"
    assert not effects.reconcile.called, "reconciliation ran"


# --- Users -------------------------------------------------------------------------


def perm_label(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def permissions(labels) -> list[Permission]:
    found = []
    for label in labels:
        app_label, codename = label.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


_view_permissions: list[Permission] = []


def view_permissions() -> list[Permission]:
    # Permissions are made by migrate, outside the tests' transactions: read them once.
    if not _view_permissions:
        _view_permissions.extend(
            Permission.objects.filter(codename__startswith="view_").select_related("content_type")
        )
    return _view_permissions


def make_staff(kind: str, needed: frozenset[str]) -> tuple[User, set[str] | None]:
    """The user, and the permissions they hold (None: all of them)."""
    user = make_user(is_staff=True, is_superuser=kind == "superuser")
    if kind == "superuser":
        return user, None
    if kind == "no_perms":
        return user, set()
    granted = view_permissions() if kind == "view_only" else permissions(needed)
    user.user_permissions.add(*granted)
    return user, {perm_label(p) for p in granted}


def log_in(client, user: User) -> None:
    """What client.force_login leaves behind, without the login signal's work
    (django-axes writes a log row and tidies attempts up on every login)."""
    session = client.session
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key


def holds(granted: set[str] | None, needed: frozenset[str]) -> bool:
    return granted is None or needed <= granted


def superuser_request(method: str = "GET"):
    request = RequestFactory().generic(method, "/admin/")
    request.user = User(is_active=True, is_staff=True, is_superuser=True)
    return request


def model_perm(model: type[Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


# --- Standard ModelAdmin views ------------------------------------------------------

STANDARD_VIEWS = (
    # (view, method, the Django permission it needs)
    ("changelist", "GET", "view"),
    ("add", "GET", "add"),
    ("add", "POST", "add"),
    ("change", "GET", "view"),
    ("change", "POST", "change"),
    ("delete", "GET", "delete"),
    ("delete", "POST", "delete"),
    ("history", "GET", "view"),
)
# Where Django asks for more than the one permission.
EXTRA_PERMISSIONS = {("accounts.user", "add"): {"accounts.change_user"}}


def debit_post(_target) -> dict:
    seller = make_contractor()
    return {"contractor": seller.pk, "amount": "15.00", "currency": "usd", "reason": "No-show"}


def debit_made(response, _target, effects: SideEffects) -> None:
    assert response.status_code == 302
    debit = ContractorDebit.objects.get()
    assert (debit.amount, debit.currency) == (1500, "usd")
    assert (debit_execute_task.name, (debit.pk,)) in effects.tasks


# A real form for add views whose POST does something worth proving; others post {}.
ADD_POSTS: dict[str, tuple[Callable, Callable]] = {
    "payments.contractordebit": (debit_post, debit_made),
}


def standard_cases():
    for model in registered_models():
        label = model._meta.label_lower
        for view, method, action in STANDARD_VIEWS:
            yield pytest.param(label, view, method, action, id=f"{label}:{view}:{method}")


@pytest.mark.parametrize("user_kind", USERS)
@pytest.mark.parametrize(("label", "view", "method", "action"), list(standard_cases()))
def test_model_admin_view(
    client, effects, django_capture_on_commit_callbacks, label, view, method, action, user_kind
):
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    needed = frozenset({model_perm(model, action), *EXTRA_PERMISSIONS.get((label, view), ())})
    user, granted = make_staff(user_kind, needed)
    log_in(client, user)
    target = None if view in ("changelist", "add") else build(label)
    # What not even a superuser may do (a read-only admin's add, say) is refused to all.
    request = superuser_request(method)
    if view == "add":
        disabled = not model_admin.has_add_permission(request)
    elif view == "change" and method == "POST":
        disabled = not model_admin.has_change_permission(request, target)
    elif view == "delete":
        disabled = not model_admin.has_delete_permission(request, target)
    else:
        disabled = False
    allowed = not disabled and holds(granted, needed)
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    url = reverse(name, args=[] if target is None else [target.pk])
    data, done = {}, None
    if method == "POST" and view == "add" and label in ADD_POSTS:
        make_data, done = ADD_POSTS[label]
        data = make_data(target)
    elif view == "delete":
        data = {"post": "yes"}
    before = snapshot(target)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(url) if method == "GET" else client.post(url, data)

    if not allowed:
        assert response.status_code == 403
        assert_nothing_happened(before, target, effects)
    elif method == "GET":
        assert response.status_code == 200
        assert_nothing_happened(before, target, effects)
    elif done is not None:
        done(response, target, effects)
    elif view == "delete":
        assert response.status_code == 302
        assert not model._default_manager.filter(pk=target.pk).exists()
    else:
        # An empty form: re-shown with its errors, or saved when nothing is editable.
        assert response.status_code in (200, 302)
        assert not effects.stripe.called


# --- Custom admin URLs --------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One request to a custom URL, and what it does when allowed."""

    name: str
    method: str = "GET"
    query: str = ""
    data: Callable[[Model | None], dict] = lambda _target: {}
    done: Callable | None = None  # None: a 200 that changes nothing


@dataclass(frozen=True)
class CustomURL:
    needed: frozenset[str]
    url: Callable[[Model | None], str]
    target: Callable[[], Model | None] = lambda: None
    variants: tuple[Variant, ...] = field(default=(Variant("GET"),))


def refund_requested(response, payment, effects: SideEffects) -> None:
    assert response.status_code == 302
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == 500
    assert (refund_execute_task.name, (refund.pk,)) in effects.tasks


def password_set(response, user, effects: SideEffects) -> None:
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def reconciled(response, _target, effects: SideEffects) -> None:
    assert response.status_code == 200
    assert effects.reconcile.called


def reconciled_csv(response, target, effects: SideEffects) -> None:
    reconciled(response, target, effects)
    assert response["Content-Type"].startswith("text/csv")


CUSTOM_URLS: dict[str, CustomURL] = {
    # PaymentAdmin.get_urls: the refund form (payments.add_refund).
    "admin:payments_payment_refund": CustomURL(
        needed=frozenset({"payments.add_refund"}),
        target=lambda: make_payment(Payment.Status.CAPTURED),
        url=lambda p: reverse("admin:payments_payment_refund", args=[p.pk]),
        variants=(
            Variant("GET"),
            Variant(
                "POST",
                method="POST",
                data=lambda _p: {"amount": "5.00", "reason": "requested_by_customer"},
                done=refund_requested,
            ),
        ),
    ),
    # Django's UserAdmin.get_urls: set a user's password (accounts.change_user).
    "admin:auth_user_password_change": CustomURL(
        needed=frozenset({"accounts.change_user"}),
        target=make_passwordless_user,
        url=lambda u: reverse("admin:auth_user_password_change", args=[u.pk]),
        variants=(
            Variant("GET"),
            Variant(
                "POST",
                method="POST",
                data=lambda _u: {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
                done=password_set,
            ),
        ),
    ),
    # config/urls.py: reconciliation, page and CSV (the view permissions it shows).
    "payments_reconcile": CustomURL(
        needed=frozenset(RECONCILE_PERMISSIONS),
        url=lambda _t: reverse("payments_reconcile"),
        variants=(
            Variant("GET", done=reconciled),
            Variant("CSV", query="?days=7&format=csv", done=reconciled_csv),
        ),
    ),
}


def _routes(patterns) -> dict[str, str | None]:
    return {str(p.pattern): p.name for p in patterns if isinstance(p, URLPattern)}


def custom_admin_urls() -> set[str]:
    """Every admin URL that is not one of Django's own: the matrix must know each."""
    found: set[str] = set()
    for model, model_admin in admin.site._registry.items():
        own = _routes(admin.ModelAdmin.get_urls(model_admin))
        for route, name in _routes(model_admin.get_urls()).items():
            if route not in own:
                found.add(f"admin:{name}" if name else f"{model._meta.label_lower}:{route}")
    site_own = _routes(admin.AdminSite.get_urls(admin.site))
    for route, name in _routes(admin.site.get_urls()).items():
        if route not in site_own:
            found.add(f"admin:{name}" if name else f"admin site:{route}")

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace != admin.site.name:
                    walk(p.url_patterns, prefix + str(p.pattern))
            elif (prefix + str(p.pattern)).lstrip("^").startswith("admin/"):
                found.add(p.name or prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_custom_admin_url_is_classified():
    unknown = custom_admin_urls() - CUSTOM_URLS.keys()
    assert not unknown, f"Add these admin URLs to CUSTOM_URLS: {sorted(unknown)}"
    gone = CUSTOM_URLS.keys() - custom_admin_urls()
    assert not gone, f"CUSTOM_URLS lists URLs that no longer exist: {sorted(gone)}"


def test_every_registered_model_can_be_built():
    missing = {m._meta.label_lower for m in registered_models()} - BUILDERS.keys()
    assert not missing, f"Add these models to BUILDERS: {sorted(missing)}"


def custom_cases():
    for name, spec in CUSTOM_URLS.items():
        for variant in spec.variants:
            yield pytest.param(name, variant, id=f"{name}:{variant.name}")


def request_custom(client, spec: CustomURL, variant: Variant, target, data: dict):
    url = spec.url(target) + variant.query
    return client.get(url) if variant.method == "GET" else client.post(url, data)


@pytest.mark.parametrize("user_kind", USERS)
@pytest.mark.parametrize(("name", "variant"), list(custom_cases()))
def test_custom_admin_url(
    client, effects, settings, django_capture_on_commit_callbacks, name, variant, user_kind
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    spec = CUSTOM_URLS[name]
    user, granted = make_staff(user_kind, spec.needed)
    log_in(client, user)
    target = spec.target()
    data = variant.data(target)
    before = snapshot(target)

    with django_capture_on_commit_callbacks(execute=True):
        response = request_custom(client, spec, variant, target, data)

    if not holds(granted, spec.needed):
        assert response.status_code == 403
        assert_nothing_happened(before, target, effects)
    elif variant.done is None:
        assert response.status_code == 200
        assert_nothing_happened(before, target, effects)
    else:
        variant.done(response, target, effects)


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        *custom_cases(),
        pytest.param(None, Variant("POST", method="POST"), id="debit add:POST"),
    ],
)
def test_anonymous_and_customers_are_sent_to_the_admin_login(
    client, effects, django_capture_on_commit_callbacks, name, variant
):
    if name is None:  # the debit form: its own add_view
        spec = CustomURL(
            needed=frozenset(), url=lambda _t: reverse("admin:payments_contractordebit_add")
        )
        variant = Variant("POST", method="POST", data=debit_post)
    else:
        spec = CUSTOM_URLS[name]
    target = spec.target()
    for user in (None, make_buyer()):
        client.logout()
        if user is not None:
            log_in(client, user)
        data = variant.data(target)
        before = snapshot(target)
        with django_capture_on_commit_callbacks(execute=True):
            response = request_custom(client, spec, variant, target, data)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
        assert_nothing_happened(before, target, effects)


# --- Actions ------------------------------------------------------------------------

# Permissions our actions declare beyond add/change/delete/view, as the
# `has_<name>_permission` methods check them.
CUSTOM_ACTION_PERMISSIONS = {
    ("payments.payoutrequest", "retry"): "payments.change_payoutrequest",
    ("payments.payment", "refund"): "payments.add_refund",
    ("payments.payment", "capture"): "payments.change_payment",
    ("shop.order", "refund"): "payments.add_refund",
    ("shop.order", "capture"): "payments.change_payment",
    ("payments.stripeevent", "replay"): "payments.change_stripeevent",
    ("payments.payment", "retry"): "payments.change_payment",
    ("payments.refund", "retry"): "payments.add_refund",
    ("payments.contractordebit", "retry"): "payments.add_contractordebit",
    ("payments.transfer", "retry"): "payments.change_payment",
    ("payments.transferreversal", "retry"): "payments.change_payment",
    ("payments.dispute", "retry"): "payments.change_dispute",
    ("payments.disputeaction", "retry"): "payments.change_dispute",
    ("accounts.customeremailsync", "retry"): "accounts.change_customeremailsync",
}


@dataclass(frozen=True)
class ActionSpec:
    """What an action is run on, and how to tell that it ran."""

    target: Callable[[], Model]
    done: Callable[[object, Model, SideEffects], None]
    data: dict = field(default_factory=dict)


def queued(task, args: Callable[[Model], tuple]):
    def check(response, target, effects: SideEffects) -> None:
        assert response.status_code == 302
        assert effects.tasks == [(task.name, args(target))]

    return check


def redirected_to(url: Callable[[Model], str]):
    def check(response, target, effects: SideEffects) -> None:
        assert response.status_code == 302
        assert response.url == url(target)
        assert effects.tasks == []

    return check


def deleted(response, target, effects: SideEffects) -> None:
    assert response.status_code == 302
    assert not type(target)._default_manager.filter(pk=target.pk).exists()


def archived(response, target, effects: SideEffects) -> None:
    assert response.status_code == 302
    assert Product.objects.get(pk=target.pk).archived_at is not None


def order_payment(order: Order) -> Payment:
    return order.payments.get()


def authorised_payment() -> Payment:
    return make_payment(Payment.Status.AUTHORIZED)


def captured_payment() -> Payment:
    return make_payment(Payment.Status.CAPTURED)


def capture_given_up() -> Payment:
    payment = authorised_payment()
    Payment.objects.filter(pk=payment.pk).update(action="capture", dispatches=25)
    payment.refresh_from_db()
    return payment


def refund_given_up() -> Refund:
    return Refund.objects.create(
        payment=captured_payment(), amount=100, currency="usd", dispatches=25
    )


def debit_given_up() -> ContractorDebit:
    debit = BUILDERS["payments.contractordebit"]()
    ContractorDebit.objects.filter(pk=debit.pk).update(status="pending", dispatches=25)
    debit.refresh_from_db()
    return debit


def transfer_given_up() -> Transfer:
    transfer = make_transfer()
    Transfer.objects.filter(pk=transfer.pk).update(
        status="pending", stripe_transfer_id=None, dispatches=25
    )
    transfer.refresh_from_db()
    return transfer


def reversal_given_up() -> TransferReversal:
    reversal = make_reversal()
    TransferReversal.objects.filter(pk=reversal.pk).update(
        status="pending", stripe_reversal_id=None, dispatches=25
    )
    reversal.refresh_from_db()
    return reversal


def payout_request_given_up() -> PayoutRequest:
    request = BUILDERS["payments.payoutrequest"]()
    PayoutRequest.objects.filter(pk=request.pk).update(status="requested", dispatches=25)
    request.refresh_from_db()
    return request


def dispute_action_given_up() -> DisputeAction:
    action = BUILDERS["payments.disputeaction"]()
    DisputeAction.objects.filter(pk=action.pk).update(status="pending", dispatches=25)
    action.refresh_from_db()
    return action


def email_sync_given_up() -> CustomerEmailSync:
    sync = BUILDERS["accounts.customeremailsync"]()
    CustomerEmailSync.objects.filter(pk=sync.pk).update(dispatches=25)
    sync.refresh_from_db()
    return sync


ACTION_SPECS: dict[tuple[str, str], ActionSpec] = {
    ("payments.disputeaction", "retry_action"): ActionSpec(
        dispute_action_given_up, queued(dispute_action_execute_task, lambda a: (a.pk,))
    ),
    ("payments.dispute", "retry_action"): ActionSpec(
        lambda: dispute_action_given_up().dispute,
        queued(dispute_action_execute_task, lambda d: (d.actions.get().pk,)),
    ),
    ("accounts.customeremailsync", "retry_action"): ActionSpec(
        email_sync_given_up, queued(customer_email_sync_task, lambda s: (s.pk,))
    ),
    ("payments.payoutrequest", "retry_action"): ActionSpec(
        payout_request_given_up, queued(payout_request_execute_task, lambda r: (r.pk,))
    ),
    ("payments.transfer", "retry_action"): ActionSpec(
        transfer_given_up, queued(transfer_execute_task, lambda t: (t.pk,))
    ),
    ("payments.transferreversal", "retry_action"): ActionSpec(
        reversal_given_up, queued(transfer_reversal_execute_task, lambda r: (r.pk,))
    ),
    ("payments.payment", "capture_action"): ActionSpec(
        authorised_payment, queued(payment_capture_task, lambda p: (p.pk,))
    ),
    ("payments.payment", "cancel_action"): ActionSpec(
        authorised_payment,
        queued(payment_cancel_task, lambda p: (p.pk,)),
    ),
    ("payments.payment", "retry_action"): ActionSpec(
        capture_given_up, queued(payment_capture_task, lambda p: (p.pk,))
    ),
    ("payments.refund", "retry_action"): ActionSpec(
        refund_given_up, queued(refund_execute_task, lambda r: (r.pk,))
    ),
    ("payments.contractordebit", "retry_action"): ActionSpec(
        debit_given_up, queued(debit_execute_task, lambda d: (d.pk,))
    ),
    ("payments.payment", "refund_action"): ActionSpec(captured_payment, redirected_to(refund_url)),
    ("shop.order", "capture_action"): ActionSpec(
        lambda: authorised_payment().order,
        queued(payment_capture_task, lambda o: (order_payment(o).pk,)),
    ),
    ("shop.order", "cancel_action"): ActionSpec(
        lambda: authorised_payment().order,
        queued(payment_cancel_task, lambda o: (order_payment(o).pk,)),
    ),
    ("shop.order", "refund_action"): ActionSpec(
        lambda: captured_payment().order, redirected_to(lambda o: refund_url(order_payment(o)))
    ),
    ("payments.stripeevent", "replay_action"): ActionSpec(
        BUILDERS["payments.stripeevent"], queued(event_process_task, lambda e: (e.pk, True))
    ),
    ("axes.accessattempt", "cleanup_expired_attempts"): ActionSpec(make_expired_attempt, deleted),
    ("shop.product", "archive_action"): ActionSpec(lambda: build("shop.product"), archived),
}


def action_spec(label: str, action: str) -> ActionSpec | None:
    if action == "delete_selected":
        return ActionSpec(lambda: build(label), deleted, {"post": "yes"})
    return ACTION_SPECS.get((label, action))


def action_permissions(model: type[Model], func) -> set[str] | None:
    """The permissions an action needs, or None if it declares one we cannot map."""
    label = model._meta.label_lower
    needed = set()
    for name in getattr(func, "allowed_permissions", ()):
        if name in ("add", "change", "delete", "view"):
            needed.add(model_perm(model, name))
        elif (label, name) in CUSTOM_ACTION_PERMISSIONS:
            needed.add(CUSTOM_ACTION_PERMISSIONS[label, name])
        else:
            return None
    return needed


def all_actions():
    for model in registered_models():
        # Every action, before Django filters them by the user's permissions.
        for func, name, _description in admin.site._registry[model]._get_base_actions():
            yield model, name, func


def test_every_admin_action_is_classified():
    problems = []
    for model, name, func in all_actions():
        label = model._meta.label_lower
        needed = action_permissions(model, func)
        if not getattr(func, "allowed_permissions", ()):
            problems.append(f"{label}.{name} declares no permissions (anyone who views may run it)")
        elif needed is None:
            problems.append(f"{label}.{name}: add its permissions to CUSTOM_ACTION_PERMISSIONS")
        if action_spec(label, name) is None:
            problems.append(f"{label}.{name}: add it to ACTION_SPECS")
    assert not problems, "\n".join(problems)


def action_cases():
    for model, name, _func in all_actions():
        label = model._meta.label_lower
        yield pytest.param(label, name, id=f"{label}:action:{name}")


@pytest.mark.parametrize("user_kind", USERS)
@pytest.mark.parametrize(("label", "action"), list(action_cases()))
def test_admin_action(
    client, effects, django_capture_on_commit_callbacks, label, action, user_kind
):
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    func = {n: f for m, n, f in all_actions() if m is model}[action]
    spec = action_spec(label, action)
    needed = action_permissions(model, func)
    if spec is None or needed is None or not needed:
        pytest.fail(f"{label}.{action} is unclassified: see test_every_admin_action_is_classified")
    # Running an action also takes opening the changelist it is on.
    needed = frozenset({*needed, model_perm(model, "view")})
    user, granted = make_staff(user_kind, needed)
    log_in(client, user)
    target = spec.target()
    disabled = action == "delete_selected" and not model_admin.has_delete_permission(
        superuser_request("POST")
    )
    allowed = not disabled and holds(granted, needed)
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    page = client.get(changelist)
    if page.status_code == 200:
        form = page.context["action_form"]
        offered = {value for value, _label in form.fields["action"].choices} if form else set()
        assert (action in offered) == allowed
    else:
        assert page.status_code == 403
        assert not allowed

    before = snapshot(target)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": action, "_selected_action": [target.pk], **spec.data}
        )
    if allowed:
        spec.done(response, target, effects)
    else:
        assert response.status_code in (200, 302, 403)
        if response.status_code == 302:  # "No action selected": back to the list
            assert response.url == changelist
        assert_nothing_happened(before, target, effects)


# --- The reported hole, on its own --------------------------------------------------


@pytest.mark.parametrize(
    ("user_kind", "allowed"),
    [("no_perms", False), ("view_only", False), ("exact", True)],
)
def test_only_staff_allowed_to_add_debits_can_debit_a_contractor(
    client, celery_eager, django_capture_on_commit_callbacks, user_kind, allowed
):
    """The form lists every contractor and captured order; its POST reaches Stripe."""
    seller = make_contractor()
    order = make_payment(Payment.Status.CAPTURED).order
    user, _ = make_staff(user_kind, frozenset({"payments.add_contractordebit"}))
    log_in(client, user)
    url = reverse("admin:payments_contractordebit_add")
    post = {"contractor": seller.pk, "amount": "15.00", "currency": "usd", "reason": "No-show"}

    with (
        mock.patch.object(
            gateway, "account_debit_create", return_value={"id": "py_test1"}
        ) as debit_call,
        mock.patch.object(gateway, "client") as stripe,
        django_capture_on_commit_callbacks(execute=True),
    ):
        page = client.get(url)
        response = client.post(url, post)

    if allowed:
        assert page.status_code == 200
        assert seller.email in page.content.decode()
        assert response.status_code == 302
        debit = ContractorDebit.objects.get()
        assert debit.status == ContractorDebit.Status.SUCCEEDED
        debit_call.assert_called_once()
    else:
        assert (page.status_code, response.status_code) == (403, 403)
        assert seller.email not in page.content.decode()
        assert str(order.public_id) not in page.content.decode()
        assert not ContractorDebit.objects.exists()
        debit_call.assert_not_called()
        assert not stripe.called


# --- Permissions are granted by superusers only ---------------------------------------


def test_user_managers_cannot_grant_permissions_or_take_over_a_superuser(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    manager, _ = make_staff("exact", frozenset({"accounts.change_user", "auth.change_group"}))
    boss = make_user(is_staff=True, is_superuser=True)
    group = Group.objects.create(name="ops")
    log_in(client, manager)

    # Their own account: the permission fields are shown, not editable.
    url = reverse("admin:accounts_user_change", args=[manager.pk])
    form = client.get(url).context["adminform"].form
    assert not {"is_superuser", "groups", "user_permissions"} & form.fields.keys()
    response = client.post(
        url,
        {
            "email": manager.email,
            "first_name": "Max",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [group.pk],
            "user_permissions": [p.pk for p in Permission.objects.all()],
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
            "profile-TOTAL_FORMS": "0",
            "profile-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302  # saved: the rest of the form was fine
    manager.refresh_from_db()
    assert (manager.first_name, manager.is_superuser) == ("Max", False)
    assert not manager.groups.exists()
    assert manager.user_permissions.count() == 2

    # A superuser's account: readable, not changeable, password included.
    assert client.get(reverse("admin:accounts_user_change", args=[boss.pk])).status_code == 200
    assert client.post(reverse("admin:accounts_user_change", args=[boss.pk]), {}).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[boss.pk])
    response = client.post(
        password_url, {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD}
    )
    assert response.status_code == 403
    boss.refresh_from_db()
    assert not boss.check_password(STRONG_PASSWORD)

    # A group's permissions: the same.
    group_url = reverse("admin:auth_group_change", args=[group.pk])
    assert "permissions" not in client.get(group_url).context["adminform"].form.fields
    response = client.post(
        group_url, {"name": "ops", "permissions": [p.pk for p in Permission.objects.all()]}
    )
    assert response.status_code == 302
    assert not group.permissions.exists()


def test_links_to_pages_a_user_may_not_open_are_not_shown(client):
    """The pages check for themselves (above); this only spares staff a 403."""
    seller = make_contractor()
    profile_url = reverse("admin:accounts_userprofile_change", args=[seller.profile.pk])
    debit_url = reverse("admin:payments_contractordebit_add")
    reconcile_url = reverse("payments_reconcile")

    viewer, _ = make_staff("view_only", frozenset())
    log_in(client, viewer)
    assert debit_url not in client.get(profile_url).content.decode()
    assert reconcile_url in client.get(reverse("admin:index")).content.decode()

    nobody, _ = make_staff("no_perms", frozenset())
    log_in(client, nobody)
    assert reconcile_url not in client.get(reverse("admin:index")).content.decode()

    debitor, _ = make_staff(
        "exact", frozenset({"accounts.view_userprofile", "payments.add_contractordebit"})
    )
    log_in(client, debitor)
    assert debit_url in client.get(profile_url).content.decode()
