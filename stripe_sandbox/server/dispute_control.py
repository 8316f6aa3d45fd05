"""``/_sandbox/disputes/...`` and ``/_sandbox/charges/{id}/dispute``: decide a dispute
as the buyer's bank would, or dispute any captured charge (tests, the demo)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..render import public
from ..resources import disputes
from ..resources.common import fetch
from .control import ControlError, _endpoint, _json, _sandbox


@_endpoint
async def resolve(request: Request) -> Response:
    """``{"outcome": "won"|"lost"}``: the bank's decision on a platform dispute."""
    data = await _json(request)
    sandbox = _sandbox(request)
    with sandbox.mutation():
        ctx = sandbox.ctx(None)
        dispute = fetch(ctx, "dispute", request.path_params["dispute"])
        body = public(disputes.resolve(ctx, dispute, str(data.get("outcome", ""))))
    return JSONResponse(body)


@_endpoint
async def open_on_charge(request: Request) -> Response:
    """``{"reason": …, "amount": …, "inquiry": false}``: the buyer disputes a captured
    platform charge (an inquiry first, when asked)."""
    data = await _json(request)
    sandbox = _sandbox(request)
    with sandbox.mutation():
        ctx = sandbox.ctx(None)
        charge = fetch(ctx, "charge", request.path_params["charge"])
        if not charge.get("captured") or charge.get("disputed"):
            raise ControlError("only a captured charge not yet disputed can be disputed")
        left = charge["amount_captured"] - charge["amount_refunded"]
        if left <= 0:
            raise ControlError("the charge was refunded in full: nothing is left to dispute")
        amount = data.get("amount")
        if amount is not None and (not isinstance(amount, int) or not 0 < amount <= left):
            raise ControlError(f"amount must be a positive integer of at most {left}")
        reason = str(data.get("reason") or "fraudulent")
        inquiry = bool(data.get("inquiry"))
        body = public(disputes.open_dispute(ctx, charge, reason, amount, inquiry=inquiry))
    return JSONResponse(body)


ROUTES = [
    Route("/_sandbox/disputes/{dispute}/resolve", resolve, methods=["POST"]),
    Route("/_sandbox/charges/{charge}/dispute", open_on_charge, methods=["POST"]),
]
