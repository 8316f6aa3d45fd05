"""Account Links: single-use URLs of the sandbox's hosted onboarding page."""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..errors import LinkExpired, StripeError, invalid_request
from ..render import public
from ..sandbox import Ctx
from ..store import Obj
from . import accounts
from .common import Endpoint


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    account = ctx.store.get(params["account"], "account")
    if account is None or account.get("_account") is not None:
        raise invalid_request(
            f"No such account: '{params['account']}'", param="account", code="resource_missing"
        )
    if params["type"] not in ("account_onboarding", "account_update"):
        raise invalid_request(
            "Invalid type: must be one of account_onboarding or account_update", param="type"
        )
    if params["type"] == "account_update" and account["type"] == "standard":
        raise invalid_request(
            "You cannot create `account_update` type Account Links for Standard accounts.",
            param="type",
        )
    for key in ("refresh_url", "return_url"):
        if not params.get(key):
            raise invalid_request(
                f"Missing required param: {key}.", param=key, code="parameter_missing"
            )
    link_id = ids.new_id("acctlink")
    now = ctx.now()
    link: Obj = {
        "id": link_id,
        "object": "account_link",
        "created": now,
        "expires_at": now + ctx.sandbox.config.account_link_ttl,
        "url": f"{ctx.sandbox.config.base_url}/connect/onboarding/{link_id}",
        "_target": account["id"],
        "_refresh_url": params["refresh_url"],
        "_return_url": params["return_url"],
        "_type": params["type"],
        "_used": False,
    }
    ctx.store.add(link, None)
    response = public(link)
    response.pop("id")
    return response


def _link(ctx: Ctx, link_id: str) -> Obj:
    link = ctx.store.get(link_id, "account_link")
    if link is None:
        raise StripeError(
            404,
            "invalid_request_error",
            f"No such account link: '{link_id}'",
            code="resource_missing",
        )
    return link


def describe(ctx: Ctx, link_id: str) -> dict:
    link = _link(ctx, link_id)
    return {
        "object": "account_link",
        "created": link["created"],
        "expires_at": link["expires_at"],
        "url": link["url"],
        "account": link["_target"],
        "refresh_url": link["_refresh_url"],
        "return_url": link["_return_url"],
        "type": link["_type"],
        "used": link["_used"],
    }


def complete(ctx: Ctx, link_id: str) -> str:
    """The onboarding form was submitted: enable the account, spend the link."""
    link = _link(ctx, link_id)
    if link["_used"] or ctx.now() > link["expires_at"]:
        raise LinkExpired(link["_refresh_url"])
    link["_used"] = True
    ctx.store.touch(link)
    account = ctx.store.get(link["_target"], "account")
    if account is None:
        raise LinkExpired(link["_refresh_url"])
    account["_onboarded"] = True
    account["_override"] = None
    if account["type"] == "custom":
        account["tos_acceptance"].update({"date": ctx.now(), "ip": "127.0.0.1"})
        account["_onboarded"] = True
    person = account.get("individual")
    if account["type"] == "custom" and person is not None:
        for doc in ("document", "additional_document"):
            person["verification"][doc]["front"] = person["verification"][doc][
                "front"
            ] or ids.new_id("file")
    banks = account["external_accounts"]["data"]
    # Going through the form again gives an account whose payouts failed new bank
    # details (the test bank account), so scheduled payouts resume.
    if not banks or banks[0]["status"] == "errored":
        accounts.add_bank_account(account, None)
    account["details_submitted"] = True
    if account["type"] == "custom":
        account["_override"] = {"currently_due": []}
    accounts.refresh(ctx, account, previous={"details_submitted": False})
    return link["_return_url"]


ROUTES = [Endpoint("POST", "/v1/account_links", create, sp.AccountLinkCreateParams)]
