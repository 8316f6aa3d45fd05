"""Steps shared by the end-to-end tests: onboard a contractor, pay, capture."""

from accounts.models import UserProfile
from payments import gateway
from payments.models import Payment
from payments.services import connect
from payments.services.intents import payment_intent_ensure
from shop.models import Order
from shop.services import checkout_create, order_fulfil
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory
from tests.integration.conftest import wait_for


def onboarded_contractor(sandbox, email):
    """A contractor who finished hosted onboarding; the status arrives by webhook."""
    seller = ContractorFactory(email=email)
    url = connect.onboarding_link_create(
        user_id=seller.pk, refresh_url="http://shop.test/r", return_url="http://shop.test/ok"
    )
    sandbox.sandbox.onboarding_complete(url.rsplit("/", 1)[1])
    wait_for(
        lambda: UserProfile.objects.get(user=seller).charges_enabled,
        what="account.updated to enable charges",
    )
    return seller


def browser_confirms(sandbox, payment, card):
    """What Stripe.js does with the card element: confirm with the card's PaymentMethod."""
    payment.refresh_from_db()
    return sandbox.client().v1.payment_intents.confirm(
        payment.stripe_payment_intent_id, {"payment_method": card}
    )


def order_status(order_id):
    return Order.objects.get(pk=order_id).status


def connected_balance(account, currency="usd"):
    """(pending, available) of a connected account, read from Stripe."""
    balance = gateway.balance_retrieve(account=account)
    pending = sum(f["amount"] for f in balance["pending"] if f["currency"] == currency)
    available = sum(f["amount"] for f in balance["available"] if f["currency"] == currency)
    return pending, available


def captured_order(sandbox, seller, price):
    """A buyer pays `price` for one product of `seller`, who fulfils; returns the payment."""
    product = ProductFactory(seller=seller, price_amount=price)
    checkout_id = checkout_create(buyer=BuyerFactory(), items=[(product.pk, 1)])
    payment = Payment.objects.get(order__checkout_id=checkout_id)
    payment_intent_ensure(payment_id=payment.pk)
    browser_confirms(sandbox, payment, "pm_card_visa")
    wait_for(lambda: order_status(payment.order_id) == "authorized", what="authorisation")
    order_fulfil(order_id=payment.order_id, seller=seller)
    wait_for(lambda: order_status(payment.order_id) == "captured", what="capture")
    payment.refresh_from_db()
    return payment
