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


def custom_account(client: stripe.StripeClient) -> stripe.Account:
    """A custom account with everything needed to be enabled."""
    front = upload_document(client)
    extra = upload_document(client)
    return client.v1.accounts.create(
        params={
            "type": "custom",
            "country": "US",
            "email": "maker@example.com",
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "business_type": "individual",
            "tos_acceptance": {"date": 1_700_000_000, "ip": "203.0.113.9"},
            "individual": {
                "first_name": "Jenny",
                "last_name": "Rosen",
                "dob": {"day": 1, "month": 2, "year": 1990},
                "verification": {
                    "document": {"front": front},
                    "additional_document": {"front": extra},
                },
            },
        }
    )


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
