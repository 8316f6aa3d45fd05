"""The buyer's "Payment methods" pages against the Stripe sandbox (the real gateway):
list, add through a SetupIntent (3-D Secure too), remove, choose the default, the
default preselected at checkout, expired cards and other buyers' cards refused."""

import datetime
import re
import uuid

import pytest
import stripe as stripe_errors
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from payments import gateway
from payments.services.customers import buyer_customer_ensure
from shop.models import Order
from stripe_sandbox.testing import run_sandbox
from tests.factories import BuyerFactory, ContractorFactory, ProductFactory
from tests.sandbox.helpers import custom_account

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

YEAR = 365 * 24 * 3600
LIST = reverse("accounts:payment_methods")


@pytest.fixture(scope="module")
def sandbox_server():
    with run_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server, settings):
    """A freshly reset sandbox with the shop's gateway pointed at it."""
    sandbox_server.reset()
    settings.STRIPE_API_BASE = sandbox_server.base_url
    settings.STRIPE_SECRET_KEY = sandbox_server.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = sandbox_server.publishable_key
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    gateway.reset_client()
    yield sandbox_server
    gateway.reset_client()


@pytest.fixture
def stripe(sandbox):
    return sandbox.client()


def customer_of(user) -> str:
    return buyer_customer_ensure(user_id=user.pk)


def stripe_id(user) -> str:
    return User.objects.get(pk=user.pk).profile.stripe_id


def save_card(stripe, customer: str, number="4242424242424242", exp_year=None) -> str:
    """A card saved on `customer` as the add page does it (a SetupIntent, confirmed
    with the card Stripe.js would send); its PaymentMethod id."""
    year = exp_year or datetime.date.today().year + 3
    card = stripe.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": year}}
    )
    setup = stripe.v1.setup_intents.create(params={"customer": customer})
    assert stripe.v1.setup_intents.confirm(setup.id, {"payment_method": card.id}).status == (
        "succeeded"
    )
    return card.id


def save_expired_card(sandbox, stripe, customer: str) -> str:
    """A card saved two years ago that has expired since: saved while the sandbox's
    clock stood then, valid till last year."""
    sandbox.control("POST", "/_sandbox/clock", {"advance": -2 * YEAR})
    try:
        return save_card(stripe, customer, exp_year=datetime.date.today().year - 1)
    finally:
        sandbox.control("POST", "/_sandbox/clock", {"advance": 2 * YEAR})


def default_of(stripe, customer: str) -> str | None:
    return stripe.v1.customers.retrieve(customer).invoice_settings.default_payment_method


def shown(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def attempt_on(response) -> str:
    return re.search(r'name="attempt" value="([0-9a-f]{32})"', response.content.decode())[1]


def test_the_list_shows_brand_last4_expiry_and_the_default(client, sandbox, stripe):
    buyer = BuyerFactory()
    customer = customer_of(buyer)
    visa = save_card(stripe, customer)
    master = save_card(stripe, customer, "5555555555554444")
    stripe.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": master}})
    client.force_login(buyer)

    response = client.get(LIST)

    assert response.status_code == 200
    cards = response.context["cards"]
    year = (datetime.date.today().year + 3) % 100
    assert [(c["id"], c["brand"], c["last4"], c["exp"], c["default"]) for c in cards] == [
        (master, "mastercard", "4444", f"12/{year}", True),
        (visa, "visa", "4242", f"12/{year}", False),
    ]
    page = response.content.decode()
    assert "Mastercard •••• 4444" in page
    assert f"expires 12/{year}" in page
    assert page.count("Make default") == 1  # not on the default itself


def test_the_account_menu_and_profile_link_to_it(client, buyer):
    client.force_login(buyer)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert page.count(f'href="{LIST}"') == 2


def test_adding_a_card_through_a_setup_intent(client, sandbox, stripe):
    buyer = BuyerFactory()
    client.force_login(buyer)
    attempt = attempt_on(client.get(LIST))

    page = client.post(reverse("accounts:payment_method_add"), {"attempt": attempt})

    config = page.context["config"]
    secret = config["clientSecret"]
    intent_id = secret.split("_secret_")[0]
    intent = stripe.v1.setup_intents.retrieve(intent_id)
    assert intent.customer == stripe_id(buyer)  # the Customer was made for it
    assert intent.usage == "on_session"
    assert config["publishableKey"] == sandbox.publishable_key
    # The same form sent again (a reload, a double click) is the same SetupIntent.
    again = client.post(reverse("accounts:payment_method_add"), {"attempt": attempt})
    assert again.context["config"]["clientSecret"] == secret

    # What Stripe.js does with the card the buyer typed, then where it sends them.
    stripe.v1.setup_intents.confirm(intent_id, {"payment_method": "pm_card_mastercard"})
    done = client.get(reverse("accounts:payment_method_added"), {"setup_intent": intent_id})

    assert done.status_code == 302
    listed = client.get(LIST)
    assert "Your card is saved." in shown(listed)
    assert [c["last4"] for c in listed.context["cards"]] == ["4444"]
    # The form once more after the card was saved (Back, then resend): the same
    # SetupIntent, which Stripe will not confirm twice; payment_methods.js then goes to the outcome.
    resent = client.post(reverse("accounts:payment_method_add"), {"attempt": attempt})
    assert resent.context["config"]["clientSecret"] == secret
    with pytest.raises(stripe_errors.InvalidRequestError) as twice:
        stripe.v1.setup_intents.confirm(intent_id, {"payment_method": "pm_card_visa"})
    assert twice.value.code == "setup_intent_unexpected_state"
    assert len(stripe.v1.customers.payment_methods.list(stripe_id(buyer)).data) == 1


def test_a_card_that_needs_3d_secure_is_saved_once_the_bank_agrees(client, sandbox, stripe):
    buyer = BuyerFactory()
    client.force_login(buyer)
    page = client.post(reverse("accounts:payment_method_add"), {"attempt": uuid.uuid4().hex})
    intent_id = page.context["config"]["clientSecret"].split("_secret_")[0]
    card = stripe.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000002500003155", "exp_month": 1, "exp_year": 2040},
        }
    )
    assert stripe.v1.setup_intents.confirm(intent_id, {"payment_method": card.id}).status == (
        "requires_action"
    )

    client.get(reverse("accounts:payment_method_added"), {"setup_intent": intent_id})
    assert "Your bank is still checking the card: reload in a moment." in shown(client.get(LIST))

    sandbox.sandbox.three_d_secure_finish(intent_id, True)
    client.get(reverse("accounts:payment_method_added"), {"setup_intent": intent_id})
    listed = client.get(LIST)
    assert "Your card is saved." in shown(listed)
    assert [c["id"] for c in listed.context["cards"]] == [card.id]


def test_another_buyers_setup_intent_tells_nothing(client, sandbox, stripe):
    other = BuyerFactory()
    intent = stripe.v1.setup_intents.create(params={"customer": customer_of(other)})
    stripe.v1.setup_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    client.force_login(BuyerFactory())

    response = client.get(reverse("accounts:payment_method_added"), {"setup_intent": intent.id})

    assert response.status_code == 302
    assert shown(client.get(LIST)) == []


def test_removing_a_card_detaches_it_and_clears_the_default(client, sandbox, stripe):
    buyer = BuyerFactory()
    customer = customer_of(buyer)
    card = save_card(stripe, customer)
    stripe.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": card}})
    client.force_login(buyer)

    response = client.post(reverse("accounts:payment_method_remove"), {"payment_method": card})

    assert response.status_code == 302
    assert stripe.v1.payment_methods.retrieve(card).customer is None
    assert default_of(stripe, customer) is None
    listed = client.get(LIST)
    assert "The card ending 4242 was removed." in shown(listed)
    assert listed.context["cards"] == []
    # Pressed twice: the second is told, not a 500.
    client.post(reverse("accounts:payment_method_remove"), {"payment_method": card})
    assert "That card is not one of your saved cards." in shown(client.get(LIST))


def test_removing_a_card_asks_first_on_a_page_of_its_own(client, sandbox, stripe):
    buyer = BuyerFactory()
    card = save_card(stripe, customer_of(buyer))
    client.force_login(buyer)
    remove = reverse("accounts:payment_method_remove")

    listed = client.get(LIST).content.decode()
    # The list's "Remove" only opens the question (a GET form: nothing is sent to Stripe).
    (form,) = re.findall(rf'<form method="(\w+)" action="{remove}">', listed)
    assert form == "get"
    ask = f"{remove}?payment_method={card}"
    asked = client.get(ask)

    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Remove this card?" in page
    assert "Visa •••• 4242" in page
    assert f'name="payment_method" value="{card}"' in page
    assert f'href="{LIST}">Keep it</a>' in page
    assert stripe.v1.payment_methods.retrieve(card).customer == stripe_id(buyer)  # GET: asked

    client.post(remove, {"payment_method": card})  # "Yes, remove the card ending 4242"
    assert stripe.v1.payment_methods.retrieve(card).customer is None
    # The question for a card that is not (or no longer) theirs is not asked.
    again = client.get(ask)
    assert again.url == LIST
    assert "That card is not one of your saved cards." in shown(client.get(LIST))


def test_choosing_the_default_and_checkout_preselects_it(client, sandbox, stripe):
    buyer = BuyerFactory()
    customer = customer_of(buyer)
    save_card(stripe, customer)
    master = save_card(stripe, customer, "5555555555554444")
    client.force_login(buyer)

    response = client.post(
        reverse("accounts:payment_method_default"),
        {"payment_method": master, "attempt": attempt_on(client.get(LIST))},
    )

    assert response.status_code == 302
    assert default_of(stripe, customer) == master
    assert "The card ending 4444 is now your default." in shown(client.get(LIST))

    # Checkout: the pay page offers the saved cards with the default chosen.
    pay = pay_page(client, stripe)

    assert pay.status_code == 200
    assert pay.context["preselected_card"] == master
    page = pay.content.decode()
    assert re.search(rf'value="{master}" checked', page)
    assert 'id="new-card" hidden' in page

    # Paying with it as checkout.js does: the server puts the chosen card on the
    # intent, then the page confirms it without naming a card.
    config = pay.context["config"]
    chosen = choose(client, config, master)
    assert (chosen.status_code, chosen.json()) == (200, {"ok": True})
    intent_id = config["intents"][0]["clientSecret"].split("_secret_")[0]
    assert stripe.v1.payment_intents.retrieve(intent_id).payment_method == master
    paid = stripe.v1.payment_intents.confirm(intent_id)
    assert (paid.status, paid.payment_method) == ("requires_capture", master)
    order = Order.objects.get(buyer=buyer)
    client.get(reverse("shop:checkout_done", args=[order.checkout_id]))
    order.refresh_from_db()
    assert order.status == Order.Status.AUTHORIZED
    # Paid: choosing a card again says so (the page then shows the outcome).
    again = choose(client, config, master)
    assert again.status_code == 409
    assert again.json()["settled"] is True


def choose(client, config, payment_method, attempt=None):
    """What checkout.js sends before confirming with a saved card."""
    return client.post(
        config["chooseCardUrl"],
        {
            "checkout_id": config["checkoutId"],
            "payment_method": payment_method,
            "attempt": attempt or uuid.uuid4().hex,
        },
    )


def pay_page(client, stripe):
    """The pay page of a one-item checkout from an onboarded contractor."""
    account = custom_account(stripe)
    seller = ContractorFactory(profile__stripe_id=account.id, profile__charges_enabled=True)
    product = ProductFactory(seller=seller, price_amount=2_500)
    client.post(reverse("shop:cart_add", args=[product.pk]), {"quantity": 1})
    return client.get(client.post(reverse("shop:checkout_start")).url)


def test_an_expired_card_is_marked_and_cannot_be_the_default(client, sandbox, stripe):
    buyer = BuyerFactory()
    customer = customer_of(buyer)
    expired = save_expired_card(sandbox, stripe, customer)
    fresh = save_card(stripe, customer)
    client.force_login(buyer)

    listed = client.get(LIST)
    by_id = {c["id"]: c for c in listed.context["cards"]}
    assert by_id[expired]["expired"]
    assert not by_id[fresh]["expired"]
    page = listed.content.decode()
    exp = by_id[expired]["exp"]
    assert f"expired {exp}</span>" in page  # not "expires 01/24 Expired"
    assert f"expires {exp}" not in page
    assert f"expires {by_id[fresh]['exp']}" in page
    assert listed.content.decode().count("Make default") == 1  # only the valid card

    # Sent anyway (an old page, a hand-made request): the server refuses it.
    client.post(
        reverse("accounts:payment_method_default"),
        {"payment_method": expired, "attempt": attempt_on(listed)},
    )
    assert default_of(stripe, customer) is None
    message = f"The card ending {by_id[expired]['last4']} has expired"
    assert any(m.startswith(message) for m in shown(client.get(LIST)))

    # Even when it is the default at Stripe, checkout does not choose it.
    stripe.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": expired}})
    from payments.services.customers import buyer_card_preselected, buyer_saved_cards

    cards = buyer_saved_cards(user_id=buyer.pk)
    assert cards[0]["id"] == expired
    assert cards[0]["default"]
    assert cards[0]["expired"]
    assert buyer_card_preselected(cards) == fresh
    pay = pay_page(client, stripe)
    page = pay.content.decode()
    assert re.search(rf'value="{expired}" disabled', page)  # shown, cannot be chosen
    assert re.search(rf'value="{fresh}" checked', page)
    assert "(expired 12/" in page
    # Sent anyway: the server refuses it and the intent keeps no card.
    config = pay.context["config"]
    refused = choose(client, config, expired)
    assert refused.status_code == 400
    assert "has expired" in refused.json()["error"]
    intent_id = config["intents"][0]["clientSecret"].split("_secret_")[0]
    assert stripe.v1.payment_intents.retrieve(intent_id).payment_method is None


def test_another_buyers_card_is_refused(client, sandbox, stripe):
    other = BuyerFactory()
    other_customer = customer_of(other)
    theirs = save_card(stripe, other_customer)
    buyer = BuyerFactory()
    customer = customer_of(buyer)
    mine = save_card(stripe, customer)
    client.force_login(buyer)
    attempt = attempt_on(client.get(LIST))

    for view in ("accounts:payment_method_remove", "accounts:payment_method_default"):
        for payment_method in (theirs, "pm_doesnotexist", "../../v1/customers", ""):
            response = client.post(
                reverse(view), {"payment_method": payment_method, "attempt": attempt}
            )
            assert response.status_code == 302
            assert "That card is not one of your saved cards." in shown(client.get(LIST))

    assert stripe.v1.payment_methods.retrieve(theirs).customer == other_customer
    # Nor can it pay this buyer's checkout; nor a checkout that is not theirs.
    config = pay_page(client, stripe).context["config"]
    for payment_method in (theirs, "pm_doesnotexist"):
        refused = choose(client, config, payment_method)
        assert refused.status_code == 400
        assert refused.json() == {"error": "That card is not one of your saved cards."}
    elsewhere = choose(client, {**config, "checkoutId": str(uuid.uuid4())}, mine)
    assert elsewhere.status_code == 409
    assert choose(client, {**config, "checkoutId": "not-a-uuid"}, mine).status_code == 400
    intent_id = config["intents"][0]["clientSecret"].split("_secret_")[0]
    assert stripe.v1.payment_intents.retrieve(intent_id).payment_method is None
    assert default_of(stripe, customer) is None
    assert default_of(stripe, other_customer) is None
    assert stripe.v1.payment_methods.retrieve(mine).customer == customer


def test_a_bad_form_token_is_refused_before_stripe(client, sandbox, stripe):
    buyer = BuyerFactory()
    card = save_card(stripe, customer_of(buyer))
    client.force_login(buyer)
    sandbox.control("DELETE", "/_sandbox/requests")
    for token in ("", "x" * 32, "not-a-token"):
        client.post(reverse("accounts:payment_method_add"), {"attempt": token})
        client.post(
            reverse("accounts:payment_method_default"), {"payment_method": card, "attempt": token}
        )
        assert "This form has expired: please try again." in shown(client.get(LIST))
    posts = sandbox.control("GET", "/_sandbox/requests")
    assert [r for r in posts["requests"] if r["method"] == "POST"] == []


def test_contractors_and_visitors_have_no_payment_methods(client, contractor):
    assert client.get(LIST).status_code == 302  # to the login page
    client.force_login(contractor)
    response = client.get(LIST)
    assert response.url == reverse("accounts:profile")
    response = client.post(reverse("accounts:payment_method_add"), {"attempt": uuid.uuid4().hex})
    assert response.url == reverse("accounts:profile")


def test_stripe_down_is_a_message_never_a_500(client, sandbox, stripe):
    buyer = BuyerFactory()
    card = save_card(stripe, customer_of(buyer))
    client.force_login(buyer)
    attempt = attempt_on(client.get(LIST))
    sandbox.control(
        "POST", "/_sandbox/faults", {"method": "*", "path": "/v1/*", "kind": "500", "count": 1000}
    )

    listed = client.get(LIST)
    assert listed.status_code == 503
    assert "unreachable" in listed.content.decode()
    for view, data in [
        ("accounts:payment_method_add", {"attempt": attempt}),
        ("accounts:payment_method_remove", {"payment_method": card}),
        ("accounts:payment_method_default", {"payment_method": card, "attempt": attempt}),
    ]:
        response = client.post(reverse(view), data)
        assert response.status_code == 302
    sandbox.control("DELETE", "/_sandbox/faults")
    assert stripe.v1.payment_methods.retrieve(card).customer == stripe_id(buyer)


def test_the_demo_buyer_gets_a_default_card_once(sandbox, stripe, capsys):
    call_command("seed_demo", site_url="http://shop.test")
    customer = User.objects.get(email="buyer@example.com").profile.stripe_id

    default = default_of(stripe, customer)
    cards = stripe.v1.customers.payment_methods.list(customer).data
    assert [c.id for c in cards] == [default]
    assert cards[0].card.last4 == "4242"
    setups = stripe.v1.setup_intents.list({"customer": customer}).data
    assert [(s.status, s.payment_method) for s in setups] == [("succeeded", default)]
    assert "a saved Visa ending 4242, the default card" in capsys.readouterr().out

    call_command("seed_demo", site_url="http://shop.test")
    assert default_of(stripe, customer) == default
    assert len(stripe.v1.setup_intents.list({"customer": customer}).data) == 1
