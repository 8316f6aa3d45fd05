"""Connected accounts (express, custom, standard) and their requirements.

A custom account is enabled (``charges_enabled``, ``payouts_enabled``, active
capabilities) once it has everything Stripe's required verification information
lists for its country and business type (``account_requirements.py``): business
details, terms-of-service acceptance, a bank account, and the individual's (or the
company's) details and identity documents (``file_…`` ids uploaded with
``purpose=identity_document``). Express and standard accounts are enabled by the
hosted onboarding page (an Account Link). The control endpoint can impose
requirements at any time.
"""

from __future__ import annotations

import copy
from typing import Any

import stripe.params as sp

from .. import ids, payout_schedule
from ..errors import invalid_request
from ..lists import embedded_list, list_object
from ..sandbox import PLATFORM_ACCOUNT_ID, Ctx
from ..store import Obj
from . import account_checks as checks
from . import account_requirements, bank_accounts
from .common import Endpoint, apply_metadata

HOSTED_DUE = [
    "business_profile.mcc",
    "business_profile.url",
    "external_account",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]
DOCUMENT_PURPOSES = ("identity_document", "additional_verification")
DOCUMENT_MAX_SIZE = 10 * 1024 * 1024
# Stripe's test bank account numbers (US routing 110000000) whose payouts fail.
PAYOUT_FAILING_NUMBERS = {
    "000111111116": "no_account",
    "000111111113": "account_closed",
    "000222222227": "insufficient_funds",
    "000333333335": "debit_not_authorized",
    "000444444440": "invalid_currency",
}
STATUS_FIELDS = (
    "charges_enabled",
    "payouts_enabled",
    "details_submitted",
    "requirements",
    "capabilities",
)


def _account_type(params: dict[str, Any]) -> str:
    if params.get("type"):
        return params["type"]
    controller = params.get("controller") or {}
    dashboard = (controller.get("stripe_dashboard") or {}).get("type")
    if dashboard == "express":
        return "express"
    if dashboard == "none" or controller.get("requirement_collection") == "application":
        return "custom"
    return "standard" if not controller else "express"


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    if ctx.account is not None:
        raise invalid_request(
            "Connected accounts are created by the platform; remove the Stripe-Account header."
        )
    account_type = _account_type(params)
    if account_type not in ("express", "custom", "standard"):
        raise invalid_request(
            "Invalid type: must be one of custom, express, or standard", param="type"
        )
    account_id = ids.new_id("acct", 16)
    requested = [
        name
        for name, value in (params.get("capabilities") or {}).items()
        if (value or {}).get("requested")
    ] or ["card_payments", "transfers"]
    account: Obj = {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "mcc": None,
            "name": None,
            "product_description": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": None,
        "capabilities": dict.fromkeys(requested, "inactive"),
        "charges_enabled": False,
        "controller": _controller(account_type),
        "country": params.get("country", "US"),
        "created": ctx.now(),
        "default_currency": params.get("default_currency", "usd"),
        "details_submitted": False,
        "email": params.get("email"),
        "external_accounts": embedded_list(f"/v1/accounts/{account_id}/external_accounts", []),
        "future_requirements": _requirements([], None),
        "metadata": {},
        "payouts_enabled": False,
        "requirements": _requirements([], None),
        "settings": {
            "branding": {
                "icon": None,
                "logo": None,
                "primary_color": None,
                "secondary_color": None,
            },
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": True},
                "statement_descriptor_prefix": None,
            },
            "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
            "payments": {"statement_descriptor": None},
            "payouts": {
                "debit_negative_balances": True,
                "schedule": payout_schedule.default_schedule(ctx.sandbox.config.payout_interval),
                "statement_descriptor": None,
            },
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": account_type,
        "_onboarded": False,
        "_override": None,
        # Follows --payout-interval until the platform sets a schedule of its own.
        "_schedule_default": True,
    }
    _apply(ctx, account, params)
    ctx.store.add(account, None)
    refresh(ctx, account, emit=False)
    if account["charges_enabled"]:
        # Stripe verifies asynchronously and then reports the account as updated.
        ctx.emit("account.updated", account, {"charges_enabled": False}, account=account_id)
    return account


def _controller(account_type: str) -> Obj:
    return {
        "fees": {"payer": "application" if account_type != "standard" else "account"},
        "is_controller": True,
        "losses": {"payments": "application" if account_type != "standard" else "stripe"},
        "requirement_collection": "application" if account_type == "custom" else "stripe",
        "stripe_dashboard": {
            "type": {"custom": "none", "express": "express"}.get(account_type, "full")
        },
        "type": "application",
    }


def _requirements(
    due: list[str],
    disabled_reason: str | None,
    past_due: list[str] | None = None,
    eventually_due: list[str] | None = None,
) -> Obj:
    return {
        "alternatives": account_requirements.alternatives(due),
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(eventually_due if eventually_due is not None else due),
        "past_due": list(past_due if past_due is not None else due),
        "pending_verification": [],
    }


def _apply(ctx: Ctx, account: Obj, params: dict[str, Any]) -> None:
    """Copy account details from create/update params."""
    if "tos_acceptance" in params:
        if account["type"] != "custom":
            raise invalid_request(
                "You cannot accept the Terms of Service on behalf of Standard and Express "
                "connected accounts.",
                param="tos_acceptance",
            )
        account["tos_acceptance"].update(
            {
                key: value
                for key, value in (params["tos_acceptance"] or {}).items()
                if key in ("date", "ip", "user_agent", "service_agreement")
            }
        )
    for field in ("email", "business_type", "default_currency", "country"):
        if field in params and params[field] != "":
            account[field] = params[field]
    if params.get("business_profile"):
        checks.business_profile(params["business_profile"])
        account["business_profile"].update(params["business_profile"])
    if "metadata" in params:
        apply_metadata(account, params["metadata"])
    if params.get("individual"):
        _apply_individual(ctx, account, params["individual"])
    if params.get("company"):
        _apply_company(account, params["company"])
    if params.get("external_account"):
        add_bank_account(account, params["external_account"])
    if params.get("settings"):
        settings = copy.deepcopy(params["settings"])
        schedule = (settings.get("payouts") or {}).pop("schedule", None)
        _merge(account["settings"], settings)
        if schedule:
            payouts = account["settings"]["payouts"]
            payouts["schedule"] = payout_schedule.updated(payouts["schedule"], schedule)
            account["_schedule_default"] = False
    for name, value in (params.get("capabilities") or {}).items():
        if (value or {}).get("requested") and name not in account["capabilities"]:
            account["capabilities"][name] = "inactive"


def _apply_individual(ctx: Ctx, account: Obj, individual: dict[str, Any]) -> None:
    person = account.get("individual") or {
        "id": ids.new_id("person"),
        "object": "person",
        "account": account["id"],
        "address": {},
        "created": ctx.now(),
        "dob": {"day": None, "month": None, "year": None},
        "email": None,
        "first_name": None,
        "last_name": None,
        "phone": None,
        "verification": {
            "additional_document": {
                "back": None,
                "details": None,
                "details_code": None,
                "front": None,
            },
            "details": None,
            "details_code": None,
            "document": {"back": None, "details": None, "details_code": None, "front": None},
            "status": "unverified",
        },
    }
    checks.individual(individual)
    verification = individual.get("verification") or {}
    for doc in ("document", "additional_document"):
        for side in ("front", "back"):
            file_id = (verification.get(doc) or {}).get(side)
            if file_id:
                _check_document(ctx, account, file_id, f"individual[verification][{doc}][{side}]")
    sensitive = {"id_number", "ssn_last_4"}
    for key in sensitive & individual.keys():
        person[f"{key}_provided"] = True
    _merge(person, {key: value for key, value in individual.items() if key not in sensitive})
    account["individual"] = person
    if account["business_type"] is None:
        account["business_type"] = "individual"


def _apply_company(account: Obj, company: dict[str, Any]) -> None:
    """Stripe never shows a tax id back, only that one was provided."""
    checks.company(company)
    target = account.setdefault("company", {})
    sensitive = {"tax_id", "vat_id"}
    for key in sensitive & company.keys():
        target[f"{key}_provided"] = bool(company[key])
    _merge(target, {key: value for key, value in company.items() if key not in sensitive})


def _check_document(ctx: Ctx, account: Obj, file_id: str, param: str) -> None:
    upload = ctx.store.get(file_id, "file")
    # A file belongs to the account that uploaded it: a connected account's identity
    # document is uploaded with its Stripe-Account header (Stripe's guide to verifying
    # connected accounts). The platform's own files are not found for the account, so
    # a document can only be given once the account exists, in an update.
    if upload is None or upload.get("_account") != account["id"]:
        raise invalid_request(
            f"No such file upload: '{file_id}'", param=param, code="resource_missing"
        )
    if upload["purpose"] not in DOCUMENT_PURPOSES:
        raise invalid_request(
            f"The file {file_id} has purpose {upload['purpose']}; identity documents must be "
            "uploaded with purpose identity_document.",
            param=param,
        )
    # The account parameters' own description (stripe-python's AccountUpdateParams…
    # VerificationDocument): "in JPG, PNG, or PDF format, and less than 10 MB in size".
    if upload["size"] >= DOCUMENT_MAX_SIZE:
        raise invalid_request(
            f"The file {file_id} is {upload['size']} bytes; identity documents must be "
            f"less than {DOCUMENT_MAX_SIZE} bytes.",
            param=param,
        )


def _merge(target: dict, source: dict) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value) if value != "" else None


def add_bank_account(account: Obj, external: Any) -> Obj:
    """A bank account from ``external_account`` (checked as Stripe does), or the
    sandbox's test bank account (``external`` None). Like Stripe, it becomes the
    default for its currency, and the old default for that currency is deleted."""
    details = external if isinstance(external, dict) else {}
    if details:
        bank_accounts.check(details, account["country"])
    number = str(details.get("account_number", "000123456789"))
    bank = {
        "id": ids.new_id("ba"),
        "object": "bank_account",
        "account": account["id"],
        "account_holder_name": details.get("account_holder_name"),
        "account_holder_type": details.get("account_holder_type"),
        "bank_name": "STRIPE TEST BANK",
        "country": details.get("country", account["country"]),
        "currency": details.get("currency", account["default_currency"]),
        "default_for_currency": True,
        "last4": number[-4:],
        "routing_number": details.get("routing_number", "110000000"),
        "status": "new",
        # Stripe's test account numbers whose payouts fail, and with which code.
        "_payout_failure": PAYOUT_FAILING_NUMBERS.get(number),
    }
    others = account["external_accounts"]["data"]
    data = [bank, *(other for other in others if other["currency"] != bank["currency"])]
    account["external_accounts"] = embedded_list(
        f"/v1/accounts/{account['id']}/external_accounts", data
    )
    return bank


def due_items(account: Obj) -> list[str]:
    """What Stripe would still ask for before enabling the account."""
    if account["type"] != "custom":
        return [] if account["_onboarded"] else list(HOSTED_DUE)
    return account_requirements.due_items(account)


def refresh(
    ctx: Ctx, account: Obj, *, emit: bool = True, previous: dict[str, Any] | None = None
) -> None:
    """Recompute requirements and what the account may do; emit ``account.updated``."""
    before = {field: copy.deepcopy(account[field]) for field in STATUS_FIELDS}
    due = due_items(account)
    override = account.get("_override")
    past_due = None
    eventually = None
    disabled_reason = None
    pending: list[str] = []
    if override:
        due = list(override.get("currently_due", due))
        past_due = override.get("past_due")
        eventually = override.get("eventually_due")
        disabled_reason = override.get("disabled_reason")
        # Stripe checking what it was given (an SSN, a document) in the background:
        # nothing is due, yet the account cannot take payments until it is done.
        pending = list(override.get("pending_verification") or [])
    enabled = not due and not pending
    if not enabled:
        waiting = "requirements.pending_verification" if pending and not due else None
        disabled_reason = disabled_reason or waiting or "requirements.past_due"
    account["requirements"] = _requirements(
        due, None if enabled else disabled_reason, past_due, eventually
    )
    account["requirements"]["pending_verification"] = pending
    account["charges_enabled"] = enabled
    account["payouts_enabled"] = enabled
    if enabled and account["type"] == "custom":
        account["details_submitted"] = True
    account["details_submitted"] = account["details_submitted"] or account["_onboarded"]
    status = "active" if enabled else "inactive"
    account["capabilities"] = dict.fromkeys(account["capabilities"], status)
    if person := account.get("individual"):
        person["verification"]["status"] = "verified" if enabled else "unverified"
    ctx.store.touch(account)
    changes = {field: value for field, value in before.items() if account[field] != value}
    changes.update(previous or {})
    if emit and changes:
        ctx.emit("account.updated", account, changes, account=account["id"])


def _fetch_account(ctx: Ctx, account_id: str) -> Obj:
    account = ctx.store.get(account_id, "account")
    if account is None or (ctx.account is not None and ctx.account != account_id):
        raise invalid_request(
            f"The provided key does not have access to account '{account_id}' (or that "
            "account does not exist). Application access may have been revoked.",
            param="account",
            code="account_invalid",
            status=403 if account else 404,
        )
    return account


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return _fetch_account(ctx, id)


def retrieve_current(ctx: Ctx, params: dict[str, Any]) -> Obj:
    if ctx.account is not None:
        return _fetch_account(ctx, ctx.account)
    return {
        "id": PLATFORM_ACCOUNT_ID,
        "object": "account",
        "business_profile": {"name": "Sandbox Marketplace", "url": None},
        "business_type": "company",
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "country": "US",
        "created": 1_700_000_000,
        "default_currency": "usd",
        "details_submitted": True,
        "email": "platform@sandbox.invalid",
        "payouts_enabled": True,
        "type": "standard",
    }


def update(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    account = _fetch_account(ctx, id)
    before = {
        "metadata": dict(account["metadata"]),
        "email": account["email"],
        "settings": copy.deepcopy(account["settings"]),
    }
    _apply(ctx, account, params)
    previous = {key: value for key, value in before.items() if account[key] != value}
    if params.get("tos_acceptance"):
        previous["tos_acceptance"] = {"date": None, "ip": None}
    if params.get("individual"):
        previous.setdefault("individual", {})
    refresh(ctx, account, previous=previous)
    return account


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    if ctx.account is not None:
        return list_object("/v1/accounts", [], params)
    return list_object("/v1/accounts", ctx.store.select("account", None), params)


def set_requirements(ctx: Ctx, account_id: str, override: dict[str, Any] | None) -> Obj:
    """Control endpoint: impose (or with ``None`` lift) requirements on an account."""
    account = ctx.store.get(account_id, "account")
    if account is None:
        raise invalid_request(
            f"No such account: '{account_id}'", code="resource_missing", status=404
        )
    account["_override"] = override
    refresh(ctx, account)
    return account


ROUTES = [
    Endpoint("POST", "/v1/accounts", create, sp.AccountCreateParams),
    Endpoint("GET", "/v1/accounts", list_all, sp.AccountListParams),
    Endpoint("GET", "/v1/account", retrieve_current, sp.AccountRetrieveCurrentParams),
    Endpoint("GET", "/v1/accounts/{id}", retrieve, sp.AccountRetrieveParams),
    Endpoint("POST", "/v1/accounts/{id}", update, sp.AccountUpdateParams),
]
