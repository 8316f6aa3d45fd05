"""factory-boy factories for the domain models."""

import factory
from django.utils import timezone

from accounts.models import User, UserProfile
from accounts.services import profile_create
from payments.models import Payment, Refund
from shop.models import Order, OrderItem, Product
from shop.services import product_save

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    # As after sign-up's emailed link; pass email_verified_at=None for an unproven one.
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class BuyerFactory(UserFactory):
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")

    @factory.post_generation
    def profile(obj, create, extracted, **kwargs):
        if create:
            profile_create(user=obj, role=UserProfile.Role.BUYER, **kwargs)


class ContractorFactory(UserFactory):
    email = factory.Sequence(lambda n: f"contractor{n}@example.com")

    @factory.post_generation
    def profile(obj, create, extracted, **kwargs):
        if create:
            profile = profile_create(user=obj, role=UserProfile.Role.CONTRACTOR)
            for name, value in kwargs.items():
                setattr(profile, name, value)
            if kwargs:
                profile.save()


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True
    is_superuser = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    seller = factory.SubFactory(ContractorFactory)
    title = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    price_amount = 2500
    currency = "usd"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, as the admin does: it sets the seller_can_charge copy.
        return product_save(product=model_class(*args, **kwargs))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    buyer = factory.SubFactory(BuyerFactory)
    seller = factory.SubFactory(ContractorFactory)
    amount = 2500
    fee_amount = 280
    currency = "usd"


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    title = "Thing"
    unit_amount = 2500
    quantity = 1


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    stripe_payment_intent_id = factory.Sequence(lambda n: f"pi_test_{n}")
    amount = factory.SelfAttribute("order.amount")
    application_fee_amount = factory.SelfAttribute("order.fee_amount")
    currency = "usd"
    destination_account = factory.Sequence(lambda n: f"acct_test_{n}")


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    payment = factory.SubFactory(PaymentFactory)
    amount = 500
    currency = "usd"


def payment_intent_snapshot(payment: Payment, status: str, **fields) -> dict:
    """The PaymentIntent of `payment` as Stripe reports it in `status` (a webhook's
    data.object, or an API answer).

    The amounts follow the status (an authorised intent can capture the whole amount,
    a succeeded one received it); `fields` set anything else or override those:
    `latest_charge`, `last_payment_error`, `cancellation_reason`, …
    """
    import time

    snapshot = {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "status": status,
        "amount": payment.amount,
        "currency": payment.currency,
        "amount_capturable": payment.amount if status == "requires_capture" else 0,
        "amount_received": payment.amount if status == "succeeded" else 0,
        "application_fee_amount": payment.application_fee_amount,
        "transfer_data": {"destination": payment.destination_account},
        "created": int(time.time()),
        "latest_charge": None,
        "last_payment_error": None,
    }
    snapshot.update(fields)
    return snapshot


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    """A real, small image file (Pillow), for uploads that are checked by content."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format=kind)
    return buffer.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
