"""``/_sandbox/...``: JSON control endpoints for tests, demos and benchmarks.

No authentication (the sandbox only listens where you tell it to). Every
endpoint answers JSON; a bad request is a 400 ``{"error": "..."}``.

A web page the developer visits can reach these endpoints too, so: every call
that changes something (POST, DELETE) must say ``Content-Type:
application/json`` or gets a 415 and changes nothing. A page cannot send that
content type without a CORS preflight, and no control answer carries CORS
headers, so the browser never sends the real request (and cannot read a GET).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import automatic_payouts
from ..errors import StripeError
from ..payout_schedule import INTERVALS
from ..render import public
from ..resources import accounts, payouts
from ..sandbox import Sandbox

Handler = Callable[[Request], Awaitable[Response]]


class ControlError(Exception):
    pass


def _sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox


async def _json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ControlError("body must be JSON") from exc
    if not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data


def _json_content_type(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json"


def _endpoint(func: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        if request.method not in ("GET", "HEAD") and not _json_content_type(request):
            given = request.headers.get("content-type") or "none"
            return JSONResponse(
                {
                    "error": f"Content-Type must be application/json (got {given}): the "
                    "sandbox's control endpoints refuse other content types so that a "
                    "web page cannot call them. Send a JSON body, {} if there is nothing "
                    "to say."
                },
                status_code=415,
            )
        try:
            return await func(request)
        except (ControlError, ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except StripeError as exc:
            return JSONResponse(exc.body, status_code=exc.status)

    wrapped.__name__ = func.__name__
    return wrapped


def _account_arg(value: Any) -> Any:
    """``"platform"``/``null`` → the platform scope, ``acct_…`` → that account."""
    if value in (None, "platform", ""):
        return None
    if not isinstance(value, str) or not value.startswith("acct_"):
        raise ControlError("account must be 'platform' or an acct_ id")
    return value


@_endpoint
async def health(request: Request) -> Response:
    sandbox = _sandbox(request)
    return JSONResponse(
        {"status": "ok", "base_url": sandbox.config.base_url, "objects": len(sandbox.store.objects)}
    )


@_endpoint
async def requests_log(request: Request) -> Response:
    """Recent /v1 calls as {t, method, path, status, fields, headers} (parameter
    names, and the Idempotency-Key, Stripe-Account, Stripe-Version and Content-Type
    headers); `?path=` filters by prefix, DELETE forgets them."""
    sandbox = _sandbox(request)
    if request.method == "DELETE":
        sandbox.request_log.clear()
        return JSONResponse({"requests": []})
    prefix = request.query_params.get("path", "")
    entries = [call.as_dict() for call in list(sandbox.request_log) if call.path.startswith(prefix)]
    return JSONResponse({"requests": entries})


@_endpoint
async def reset(request: Request) -> Response:
    _sandbox(request).reset()
    return JSONResponse({"reset": True})


@_endpoint
async def faults(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        if request.method == "POST":
            data = await _json(request)
            sandbox.faults.add(
                str(data.get("method", "*")),
                str(data["path"]),
                str(data.get("kind", "500")),
                int(data.get("count", 1)),
            )
        elif request.method == "DELETE":
            sandbox.faults.clear()
        return JSONResponse({"faults": sandbox.faults.as_list()})


@_endpoint
async def webhooks(request: Request) -> Response:
    """Read or change delivery targets, secrets and the duplicate/reorder switches."""
    sandbox = _sandbox(request)
    config = sandbox.config
    if request.method == "POST":
        data = await _json(request)
        with sandbox.lock:
            switches = sandbox.dispatcher.switches
            for name in ("duplicate", "reorder"):
                if name in data:
                    setattr(switches, name, bool(data[name]))
            for name in (
                "forward_url",
                "forward_connect_url",
                "webhook_secret",
                "connect_webhook_secret",
            ):
                if name in data:
                    setattr(config, name, data[name] or None)
            if "retry_base" in data:
                sandbox.dispatcher.retry_base = float(data["retry_base"])
            if "max_attempts" in data:
                sandbox.dispatcher.max_attempts = int(data["max_attempts"])
    return JSONResponse(
        {
            **sandbox.dispatcher.switches.as_dict(),
            "forward_url": config.forward_url,
            "forward_connect_url": config.forward_connect_url,
            "webhook_secret": config.webhook_secret,
            "connect_webhook_secret": config.connect_webhook_secret,
            "retry_base": sandbox.dispatcher.retry_base,
            "max_attempts": sandbox.dispatcher.max_attempts,
        }
    )


@_endpoint
async def deliveries(request: Request) -> Response:
    sandbox = _sandbox(request)
    event_id = request.query_params.get("event_id")
    event_type = request.query_params.get("type")
    entries = [
        entry
        for entry in list(sandbox.dispatcher.log.entries)
        if (event_id is None or entry["event_id"] == event_id)
        and (event_type is None or entry["type"] == event_type)
    ]
    return JSONResponse({"deliveries": entries})


@_endpoint
async def settle_balance(request: Request) -> Response:
    data = await _json(request)
    sandbox = _sandbox(request)
    if "account" in data:
        sandbox.settle_balances(_account_arg(data["account"]))
    else:
        sandbox.settle_balances()
    return JSONResponse({"settled": True})


@_endpoint
async def run_payouts(request: Request) -> Response:
    data = await _json(request)
    sandbox = _sandbox(request)
    with sandbox.mutation():
        ctx = sandbox.ctx(_account_arg(data.get("account")))
        settled = payouts.run(
            ctx, fail=bool(data.get("fail")), failure_code=data.get("failure_code")
        )
        body = {"payouts": [public(payout) for payout in settled]}
    return JSONResponse(body)


@_endpoint
async def requirements(request: Request) -> Response:
    data = await _json(request)
    sandbox = _sandbox(request)
    account_id = request.path_params["account"]
    override = (
        None
        if data.get("clear")
        else {
            key: data[key]
            for key in (
                "currently_due",
                "eventually_due",
                "past_due",
                "disabled_reason",
                "pending_verification",
            )
            if key in data
        }
    )
    with sandbox.mutation():
        account = accounts.set_requirements(sandbox.ctx(), account_id, override)
        body = public(account)
    return JSONResponse(body)


@_endpoint
async def clock(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "POST":
        data = await _json(request)
        with sandbox.mutation():
            sandbox.clock.advance(float(data.get("advance", 0)))
    return JSONResponse({"now": sandbox.clock.now(), "offset": sandbox.clock.offset})


@_endpoint
async def latency(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "POST":
        data = await _json(request)
        sandbox.latency_ms = max(0, int(data.get("ms", 0)))
    return JSONResponse({"ms": sandbox.latency_ms})


@_endpoint
async def settings(request: Request) -> Response:
    """Runtime knobs: ``available_after`` (seconds), ``account_link_ttl`` and
    ``payout_interval``."""
    sandbox = _sandbox(request)
    config = sandbox.config
    if request.method == "POST":
        data = await _json(request)
        with sandbox.lock:
            if "available_after" in data:
                config.available_after = max(0.0, float(data["available_after"]))
            if "account_link_ttl" in data:
                config.account_link_ttl = max(1, int(data["account_link_ttl"]))
        if "payout_interval" in data:
            _payout_interval(sandbox, data["payout_interval"])
    return JSONResponse(
        {
            "available_after": config.available_after,
            "account_link_ttl": config.account_link_ttl,
            "payout_interval": config.payout_interval,
        }
    )


def _payout_interval(sandbox: Sandbox, interval: Any) -> None:
    """The schedule of accounts whose platform set none (``--payout-interval``)."""
    if interval not in INTERVALS:
        raise ControlError(f"payout_interval must be one of {', '.join(INTERVALS)}")
    with sandbox.mutation():
        sandbox.config.payout_interval = interval
        automatic_payouts.follow_default_interval(sandbox)


ROUTES = [
    Route("/_sandbox/config", settings, methods=["GET", "POST"]),
    Route("/_sandbox/health", health, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
    Route("/_sandbox/requests", requests_log, methods=["GET", "DELETE"]),
    Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_sandbox/webhooks", webhooks, methods=["GET", "POST"]),
    Route("/_sandbox/deliveries", deliveries, methods=["GET"]),
    Route("/_sandbox/balance/settle", settle_balance, methods=["POST"]),
    Route("/_sandbox/payouts/run", run_payouts, methods=["POST"]),
    Route("/_sandbox/accounts/{account}/requirements", requirements, methods=["POST"]),
    Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
    Route("/_sandbox/latency", latency, methods=["GET", "POST"]),
]
