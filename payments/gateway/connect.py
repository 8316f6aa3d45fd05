"""The contractor's side: connected accounts, onboarding, balances, debits, documents.

As in buyers.py, each write says how to tell after a 500 whether it took effect.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

import stripe

from . import _core
from ._core import found, having, nothing, plain, read_options, since, translated_errors, write


def account_create(
    *, email: str, user_id: int, account_type: str, country: str, idempotency_key: str
) -> dict:
    metadata = {"user_id": str(user_id)}
    params: stripe.params.AccountCreateParams = {
        "type": account_type,
        "country": country,
        "email": email,
        "capabilities": {
            "card_payments": {"requested": True},
            "transfers": {"requested": True},
        },
        "metadata": metadata,
    }
    recent: stripe.params.AccountListParams = {"created": {"gte": since()}, "limit": 100}
    return write(
        "account_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.accounts.create(params, options),
        lambda: found(
            "account_find",
            lambda: _core.stripe_client().v1.accounts.list(recent),
            email=email,
            metadata=metadata,
        ),
    )


def account_retrieve(*, account: str) -> dict:
    with translated_errors("account_retrieve"):
        result = _core.stripe_client().v1.accounts.retrieve(account)
    return plain(result)


def account_link_create(
    *, account: str, refresh_url: str, return_url: str, idempotency_key: str
) -> dict:
    params: stripe.params.AccountLinkCreateParams = {
        "account": account,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "type": "account_onboarding",
    }
    return write(
        "account_link_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.account_links.create(params, options),
        nothing,  # a link is a URL, not state: a second one is harmless
    )


def account_update_custom(
    *,
    account: str,
    idempotency_key: str,
    individual: stripe.params.AccountUpdateParamsIndividual | None = None,
    tos_date: int | None = None,
    tos_ip: str = "",
    business_type: str = "",
    business_profile: stripe.params.AccountUpdateParamsBusinessProfile | None = None,
    company: stripe.params.AccountUpdateParamsCompany | None = None,
    external_account: stripe.params.AccountUpdateParamsBankAccount | None = None,
) -> dict:
    """Our own onboarding form: only the details the account's requirements ask for
    (each part sent only when given), and the ToS acceptance with its date and IP."""
    params: stripe.params.AccountUpdateParams = {}
    if business_type:
        params["business_type"] = business_type
    if individual:
        params["individual"] = individual
    if company:
        params["company"] = company
    if business_profile:
        params["business_profile"] = business_profile
    if external_account:
        params["external_account"] = external_account
    if tos_date is not None:
        params["tos_acceptance"] = {"date": tos_date, "ip": tos_ip}
    return write(
        "account_update_custom",
        idempotency_key,
        lambda options: _core.stripe_client().v1.accounts.update(account, params, options),
        nothing,  # it sets values: setting them again changes nothing
    )


def account_debit_create(
    *, account: str, amount: int, currency: str, debit_id: int, reason: str, idempotency_key: str
) -> dict:
    """Take money from a connected account's balance to the platform (an account debit)."""
    metadata = {"debit_id": str(debit_id)}
    params: stripe.params.ChargeCreateParams = {
        "amount": amount,
        "currency": currency,
        "source": account,
        "description": reason[:350],
        "metadata": metadata,
    }
    recent: stripe.params.ChargeListParams = {"created": {"gte": since()}, "limit": 100}

    def find() -> dict | None:
        # The charge list has no filter for the source: ours is the one from this
        # account carrying our debit row's id.
        with translated_errors("account_debit_find"):
            charges = (
                c.to_dict()
                for c in _core.stripe_client().v1.charges.list(recent).auto_paging_iter()
            )
            return having(
                (c for c in charges if (c.get("source") or {}).get("id") == account),
                metadata=metadata,
            )

    return write(
        "account_debit_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.charges.create(params, options),
        find,
    )


def transfer_create(
    *,
    amount: int,
    currency: str,
    destination: str,
    source_transaction: str,
    transfer_group: str,
    order_id: int,
    transfer_id: int,
    idempotency_key: str,
) -> dict:
    """Pay a contractor their part of a checkout's platform charge (separate charges
    and transfers): from `source_transaction`, so the money is the charge's and
    becomes available when the charge's does, whatever the platform's balance."""
    metadata = {"order_id": str(order_id), "transfer_id": str(transfer_id)}
    params: stripe.params.TransferCreateParams = {
        "amount": amount,
        "currency": currency,
        "destination": destination,
        "source_transaction": source_transaction,
        "transfer_group": transfer_group,
        "metadata": metadata,
        "description": f"Order {order_id}",
    }
    return write(
        "transfer_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.transfers.create(params, options),
        # Our Transfer row's id, among the transfers of the checkout's group.
        lambda: having(transfer_list(transfer_group=transfer_group), metadata=metadata),
    )


def transfer_list(*, transfer_group: str) -> list[dict]:
    """Every transfer of a group (one checkout's), newest first."""
    with translated_errors("transfer_list"):
        listing = _core.stripe_client().v1.transfers.list(
            {"transfer_group": transfer_group, "limit": 100}
        )
        return [t.to_dict() for t in listing.auto_paging_iter()]


def transfer_reversal_create(
    *,
    transfer: str,
    amount: int,
    idempotency_key: str,
    debit_id: int | None = None,
    reversal_id: int | None = None,
) -> dict:
    """Claw back part of a transfer already made to a connected account: for a debit
    (`debit_id`) or for a refund of the order (our TransferReversal, `reversal_id`)."""
    if (debit_id is None) == (reversal_id is None):
        raise ValueError("a reversal is for one debit or one refund's reversal")
    metadata = (
        {"debit_id": str(debit_id)} if debit_id is not None else {"reversal_id": str(reversal_id)}
    )
    return write(
        "transfer_reversal_create",
        idempotency_key,
        lambda options: _core.stripe_client().v1.transfers.reversals.create(
            transfer, {"amount": amount, "metadata": metadata}, options
        ),
        lambda: found(
            "transfer_reversal_find",
            lambda: _core.stripe_client().v1.transfers.reversals.list(transfer, {"limit": 100}),
            metadata=metadata,
        ),
    )


def transfer_reversal_retrieve(*, transfer: str, reversal: str) -> dict:
    with translated_errors("transfer_reversal_retrieve"):
        result = _core.stripe_client().v1.transfers.reversals.retrieve(transfer, reversal)
    return plain(result)


def balance_retrieve(*, account: str | None = None) -> dict:
    """The platform's balance, or a connected account's with `account`."""
    with translated_errors("balance_retrieve"):
        result = _core.stripe_client().v1.balance.retrieve(None, read_options(account))
    return plain(result)


def file_upload(*, file: BinaryIO, filename: str, account: str, idempotency_key: str) -> dict:
    """Upload a connected account's identity document through Stripe's Files API.

    Stripe wants one multipart file part named `file`, whose filename the SDK takes
    from the object's `name` (a `(filename, file)` tuple is sent as two parts,
    `file[0]` and `file[1]`, and refused). The file belongs to the connected account
    (`Stripe-Account`), as Stripe's guide to verifying connected accounts says: a
    platform file cannot be used in the account's verification.
    """
    data = file.read()
    recent: stripe.params.FileListParams = {
        "purpose": "identity_document",
        "created": {"gte": since()},
        "limit": 100,
    }

    def send(options: stripe.RequestOptions) -> Any:
        upload = io.BytesIO(data)  # a fresh stream for each attempt
        upload.name = filename
        return _core.stripe_client().v1.files.create(
            {"purpose": "identity_document", "file": upload}, options
        )

    return write(
        "file_upload",
        idempotency_key,
        send,
        lambda: found(
            "file_find",
            lambda: _core.stripe_client().v1.files.list(recent, read_options(account)),
            filename=filename,
            size=len(data),
        ),
        account=account,
    )
