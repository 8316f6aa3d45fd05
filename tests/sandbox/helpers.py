"""Builders shared by the sandbox tests."""

from __future__ import annotations

import io

import stripe

from stripe_sandbox.testing import SandboxHandle

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def file_like(name: str, data: bytes) -> io.BytesIO:
    """What the SDK uploads: any object with ``read`` (and ``name`` for the filename)."""
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def upload_document(client: stripe.StripeClient, account: str | None = None) -> str:
    options = {"stripe_account": account} if account else {}
    upload = client.v1.files.create(
        params={"purpose": "identity_document", "file": file_like("id.png", PNG)},
        options=options,
    )
    return upload.id


# What Stripe asks of a US individual with card_payments and transfers, as a custom
# account's details (stripe_sandbox/resources/account_requirements.py).
US_INDIVIDUAL = {
    "first_name": "Jenny",
    "last_name": "Rosen",
    "email": "maker@example.com",
    "phone": "+14155550100",
    "dob": {"day": 1, "month": 2, "year": 1990},
    "address": {
        "line1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    },
    "ssn_last_4": "0000",
}
BUSINESS = {"mcc": "5734", "url": "https://maker.example.com"}
# Stripe's test bank account (routing 110000000, account 000123456789).
BANK_ACCOUNT = {
    "object": "bank_account",
    "country": "US",
    "currency": "usd",
    "routing_number": "110000000",
    "account_number": "000123456789",
}


def documents(client: stripe.StripeClient, account: str) -> dict:
    """An identity document and an additional one, uploaded as the connected account
    (its Stripe-Account header): Stripe finds no other file for the account."""
    return {
        "document": {"front": upload_document(client, account)},
        "additional_document": {"front": upload_document(client, account)},
    }


def with_documents(client: stripe.StripeClient, account: str) -> stripe.Account:
    """The account, given its identity documents (an update: they are its own files,
    so they can only be uploaded once it exists)."""
    return client.v1.accounts.update(
        account, params={"individual": {"verification": documents(client, account)}}
    )


def custom_account(client: stripe.StripeClient) -> stripe.Account:
    """A custom account with everything needed to be enabled."""
    account = client.v1.accounts.create(
        params={
            "type": "custom",
            "country": "US",
            "email": "maker@example.com",
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "business_type": "individual",
            "business_profile": BUSINESS,
            "external_account": BANK_ACCOUNT,
            "tos_acceptance": {"date": 1_700_000_000, "ip": "203.0.113.9"},
            "individual": US_INDIVIDUAL,
        }
    )
    return with_documents(client, account.id)


def express_account(client: stripe.StripeClient, sandbox: SandboxHandle) -> stripe.Account:
    """An express account taken through hosted onboarding."""
    account = client.v1.accounts.create(params={"type": "express", "email": "x@example.com"})
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://shop.test/refresh",
            "return_url": "https://shop.test/done",
        }
    )
    sandbox.sandbox.onboarding_complete(link.url.rsplit("/", 1)[1])
    return client.v1.accounts.retrieve(account.id)


def destination_payment(
    client: stripe.StripeClient,
    destination: str,
    amount: int,
    fee: int,
    *,
    capture: bool = True,
    card: str = "pm_card_visa",
) -> stripe.PaymentIntent:
    intent = client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "capture_method": "manual",
            "application_fee_amount": fee,
            "transfer_data": {"destination": destination},
            "payment_method": card,
            "confirm": True,
            "metadata": {"order_id": "42"},
        }
    )
    assert intent.status == "requires_capture"
    if capture:
        intent = client.v1.payment_intents.capture(intent.id)
    return intent


def available(client: stripe.StripeClient, account: str | None = None) -> int:
    options = {"stripe_account": account} if account else {}
    return sum(entry.amount for entry in client.v1.balance.retrieve(options=options).available)


def pending(client: stripe.StripeClient, account: str | None = None) -> int:
    options = {"stripe_account": account} if account else {}
    return sum(entry.amount for entry in client.v1.balance.retrieve(options=options).pending)
