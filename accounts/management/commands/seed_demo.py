"""Create the demo's people, products, shops and product photos. Safe to run again:
nothing is created twice.

With a Stripe sandbox (`STRIPE_API_BASE` set, as `make demo` does) the two
contractors also get connected accounts and finish hosted onboarding, so their
products can be bought at once. Without one (tests, or real Stripe) they are left
to onboard themselves.
"""

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User, UserProfile
from accounts.services import user_signup
from payments import gateway
from payments.services.connect import (
    contractor_account_ensure,
    onboarding_link_create,
    profile_apply_account,
)
from payments.services.customers import buyer_customer_ensure
from shop.demo_listings import KINDS_AND_STOCK, demo_listings_seed
from shop.models import Product
from shop.services import product_save

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - a published demo login, not a secret

CONTRACTORS = [
    (
        "alice@example.com",
        "Alice's Workshop",
        [
            ("Oak cutting board", "oak-cutting-board", 4500, "Hand-finished oak, 40 × 25 cm."),
            ("Walnut bowl", "walnut-bowl", 8900, "Turned from a single walnut block."),
            ("Carving class (2 h)", "carving-class", 6000, "A two-hour lesson in the workshop."),
        ],
    ),
    (
        "bob@example.com",
        "Bob's Bike Repair",
        [
            ("Tune-up", "bike-tune-up", 7500, "Brakes, gears and a safety check."),
            ("Puncture repair", "puncture-repair", 1500, "While you wait."),
            ("Wheel truing", "wheel-truing", 2500, "Straight wheels again."),
        ],
    ),
]
BUYER = ("buyer@example.com", "Demo Buyer")
STAFF = "staff@example.com"


class Command(BaseCommand):
    help = (
        "Create a staff user, two contractors with products and a buyer (idempotent); "
        "onboard the contractors when STRIPE_API_BASE points at a Stripe sandbox."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--site-url",
            default=getattr(settings, "SITE_URL", "http://127.0.0.1:8000"),
            help="the shop's address, for the onboarding return and refresh pages",
        )

    def handle(self, *args, site_url: str, **options):
        created = self._rows()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new rows)."))
        if settings.STRIPE_API_BASE:
            self._onboard_all(site_url.rstrip("/"))
            self._buyer_default_card()
        else:
            self.stdout.write(
                self.style.WARNING(
                    "No Stripe sandbox (STRIPE_API_BASE is empty): the contractors are not "
                    "onboarded, so their products cannot be bought until they onboard."
                )
            )
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write(f"  staff       {STAFF}  (Django admin at /admin/)")
        for email, name, _ in CONTRACTORS:
            self.stdout.write(f"  contractor  {email}  ({name})")
        self.stdout.write(f"  buyer       {BUYER[0]}")

    @transaction.atomic
    def _rows(self) -> int:
        created = 0
        if not User.objects.filter(email=STAFF).exists():
            User.objects.create_superuser(
                email=STAFF, password=DEMO_PASSWORD, email_verified_at=timezone.now()
            )
            created += 1
        sellers = []
        for email, name, products in CONTRACTORS:
            seller, made = self._person(email, name, UserProfile.Role.CONTRACTOR)
            sellers.append(seller)
            created += made
            for title, slug, price, description in products:
                if Product.objects.filter(slug=slug).exists():
                    continue
                kind, stock = KINDS_AND_STOCK[slug]
                product = Product(
                    kind=kind,
                    stock=stock,
                    seller=seller,
                    title=title,
                    slug=slug,
                    price_amount=price,
                    currency="usd",
                    description=description,
                )
                product_save(product=product)
                created += 1
        # Their shops, categories and product photos (drawn now: no image files in git).
        created += demo_listings_seed(sellers=sellers)
        created += self._person(*BUYER, UserProfile.Role.BUYER)[1]
        return created

    def _person(self, email: str, name: str, role: str) -> tuple[User, bool]:
        user = User.objects.filter(email=email).first()
        if user is not None:
            return user, False
        user = user_signup(email=email, password=DEMO_PASSWORD, role=role, display_name=name)
        # example.com receives no mail: the demo's people count as having confirmed
        # their addresses, so they can buy and onboard at once.
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        return user, True

    # --- The buyer's saved card at the sandbox (network calls, no transaction) ---

    def _buyer_default_card(self) -> None:
        """The demo buyer gets a saved default card the way the shop saves one: a
        SetupIntent confirmed with a test Visa, then that payment method set as the
        Customer's `invoice_settings.default_payment_method`. Once only."""
        user = User.objects.get(email=BUYER[0])
        try:
            customer = buyer_customer_ensure(user_id=user.pk)
            current = gateway.customer_retrieve(customer=customer)["invoice_settings"]
            if current.get("default_payment_method"):
                return
            intent = gateway.setup_intent_create(
                customer=customer, attempt="demo", idempotency_key=f"user-{user.pk}-card-demo"
            )
            intent = gateway.setup_intent_confirm(
                setup_intent=intent["id"],
                payment_method="pm_card_visa",
                idempotency_key=f"user-{user.pk}-card-demo-confirm",
            )
            gateway.customer_default_payment_method_set(
                customer=customer,
                payment_method=intent["payment_method"],
                idempotency_key=f"user-{user.pk}-default-demo",
            )
        except gateway.GatewayError as exc:
            self.stderr.write(self.style.WARNING(f"The demo buyer has no saved card: {exc}"))
            return
        self.stdout.write(f"Buyer {BUYER[0]}: a saved Visa ending 4242, the default card.")

    # --- Connect onboarding at the sandbox (outside any transaction: network calls) ---

    def _onboard_all(self, site_url: str) -> None:
        try:
            for email, _, _ in CONTRACTORS:
                user = User.objects.get(email=email)
                account = self._onboard(user, site_url)
                state = "can sell" if account.get("charges_enabled") else "still has requirements"
                self.stdout.write(
                    f"Contractor {email}: connected account {account['id']}, {state}."
                )
        except gateway.GatewayUnavailable as exc:
            self.stderr.write(
                self.style.WARNING(
                    f"The Stripe sandbox at {settings.STRIPE_API_BASE} did not answer ({exc}): "
                    "the contractors are not onboarded."
                )
            )

    def _onboard(self, user: User, site_url: str) -> dict:
        """The contractor's account, onboarded the way a person would do it.

        The account is created once (the service's idempotency key comes from the
        user); an Account Link is made only while details are missing, so a second
        run creates nothing at Stripe.
        """
        account_id = contractor_account_ensure(user_id=user.pk)
        try:
            account = gateway.account_retrieve(account=account_id)
        except gateway.GatewayRejected as exc:
            # The shop's database remembers an account the sandbox has forgotten.
            raise CommandError(
                f"{user.email}'s connected account {account_id} is unknown to the Stripe "
                f"sandbox ({exc}). Its state was probably deleted: delete the shop's "
                "database too (var/db.sqlite3) to start the demo afresh."
            ) from exc
        if not account.get("details_submitted"):
            return_url = site_url + reverse("accounts:onboarding_return")
            link = onboarding_link_create(
                user_id=user.pk,
                refresh_url=site_url + reverse("accounts:onboarding_refresh"),
                return_url=return_url,
            )
            # Submitting the hosted onboarding form; the sandbox fills in test details
            # and sends the browser back to return_url.
            response = httpx.post(link, timeout=10)
            if response.status_code != 303 or response.headers.get("location") != return_url:
                raise CommandError(
                    f"Hosted onboarding of {user.email} failed: HTTP {response.status_code} "
                    f"from {link}."
                )
            account = gateway.account_retrieve(account=account_id)
        profile_apply_account(account)
        return account
