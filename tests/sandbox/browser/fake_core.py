"""A stand-in for the sandbox core: just enough state and REST API for the
browser routes and the test Stripe.js, so these tests run without the core.

Outcomes follow Stripe's test cards: ...0002 is declined, 4000 0025 0000 3155
needs 3-D Secure, anything else is authorised.
"""

import itertools
import threading
import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from stripe_sandbox.browser.routes import ROUTES
from stripe_sandbox.errors import LinkExpired, StripeError

DECLINED = "4000000000000002"
THREE_D_SECURE = "4000002500003155"
AUTH_FAILURE = {
    "type": "invalid_request_error",
    "code": "payment_intent_authentication_failure",
    "message": "The provided PaymentMethod has failed authentication.",
}


class FakeClock:
    """Like the core's clock: wall time plus an offset tests can advance."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


class FakeSandbox:
    """The three methods the browser routes call, plus helpers for tests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.intents: dict[str, dict] = {}
        self.card_numbers: dict[str, str] = {}  # pm id -> number, to pick outcomes
        self.links: dict[str, dict] = {}
        self.requests: list[dict] = []  # every API call: path, params, origin
        self.finished: list[tuple[str, bool]] = []
        self.clock = FakeClock()

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):06d}"

    def create_intent(self, kind: str = "payment", amount: int = 1500) -> dict:
        prefix = "pi" if kind == "payment" else "seti"
        intent_id = self._id(prefix)
        intent = {
            "id": intent_id,
            "object": "payment_intent" if prefix == "pi" else "setup_intent",
            "client_secret": f"{intent_id}_secret_abc",
            "status": "requires_payment_method",
            "next_action": None,
            "payment_method": None,
        }
        if prefix == "pi":
            intent.update(amount=amount, currency="usd", capture_method="manual")
        self.intents[intent_id] = intent
        return intent

    def create_link(
        self,
        *,
        used: bool = False,
        expires_at: float = 4_000_000_000,
        shop: str = "http://shop.test",
    ) -> dict:
        link_id = self._id("link")
        link = {
            "id": link_id,
            "account": "acct_1TestAccount",
            "refresh_url": f"{shop}/onboarding/refresh",
            "return_url": f"{shop}/done",
            "type": "account_onboarding",
            "expires_at": expires_at,
            "used": used,
        }
        self.links[link_id] = link
        return link

    # --- the contract with stripe_sandbox.browser.routes ---------------------

    def three_d_secure_finish(self, intent_id: str, succeed: bool) -> dict:
        with self.lock:
            intent = self.intents.get(intent_id)
            if intent is None or intent["status"] != "requires_action":
                raise StripeError(
                    400,
                    "invalid_request_error",
                    "This PaymentIntent does not require authentication.",
                    code="payment_intent_unexpected_state",
                )
            self.finished.append((intent_id, succeed))
            intent["next_action"] = None
            if succeed:
                pi = intent_id.startswith("pi_")
                intent["status"] = "requires_capture" if pi else "succeeded"
            else:
                intent["status"] = "requires_payment_method"
                error_key = (
                    "last_payment_error" if intent_id.startswith("pi_") else "last_setup_error"
                )
                intent[error_key] = dict(AUTH_FAILURE)
            return dict(intent)

    def account_link_get(self, link_id: str) -> dict:
        if link_id not in self.links:
            raise StripeError(
                404, "invalid_request_error", "No such account link", code="resource_missing"
            )
        return dict(self.links[link_id])

    def onboarding_complete(self, link_id: str) -> str:
        link = self.links[link_id]
        if link["used"]:
            raise LinkExpired(link["refresh_url"])
        link["used"] = True
        return link["return_url"]


# --- the slice of the REST API that Stripe.js calls --------------------------


def _error(status: int, **error) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


async def _record(request: Request) -> dict:
    params = dict(await request.form()) if request.method == "POST" else dict(request.query_params)
    request.app.state.sandbox.requests.append(
        {
            "path": request.url.path,
            "params": params,
            "origin": request.headers.get("origin"),
        }
    )
    return params


async def _authorised(request: Request) -> bool:
    """Stripe.js sends its publishable key as the ``key`` parameter."""
    params = await request.form() if request.method == "POST" else request.query_params
    return str(params.get("key", "")).startswith("pk_test_")


async def create_payment_method(request: Request) -> JSONResponse:
    params = await _record(request)
    if not await _authorised(request):
        return _error(401, type="invalid_request_error", message="Invalid API Key provided")
    sandbox: FakeSandbox = request.app.state.sandbox
    pm_id = sandbox._id("pm")
    sandbox.card_numbers[pm_id] = params["card[number]"]
    return JSONResponse(
        {
            "id": pm_id,
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": params["card[number]"][-4:]},
            "billing_details": {"name": params.get("billing_details[name]")},
        }
    )


def _intent_for(request: Request, params: dict) -> dict | None:
    intent = request.app.state.sandbox.intents.get(request.path_params["intent_id"])
    if intent is None or params.get("client_secret") != intent["client_secret"]:
        return None
    return intent


async def retrieve_intent(request: Request) -> JSONResponse:
    params = await _record(request)
    intent = _intent_for(request, params)
    if intent is None or not await _authorised(request):
        return _error(
            404, type="invalid_request_error", code="resource_missing", message="No such intent"
        )
    return JSONResponse(intent)


async def confirm_intent(request: Request) -> JSONResponse:
    params = await _record(request)
    intent = _intent_for(request, params)
    if intent is None or not await _authorised(request):
        return _error(
            404, type="invalid_request_error", code="resource_missing", message="No such intent"
        )
    sandbox: FakeSandbox = request.app.state.sandbox
    intent["payment_method"] = params.get("payment_method") or intent["payment_method"]
    number = sandbox.card_numbers.get(intent["payment_method"], "4242424242424242")
    if number == DECLINED:
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {"type": "card_error", "code": "card_declined"}
        return _error(
            402,
            type="card_error",
            code="card_declined",
            decline_code="generic_decline",
            message="Your card was declined.",
            payment_intent=intent,
        )
    if number == THREE_D_SECURE:
        intent["status"] = "requires_action"
        intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
    elif intent["id"].startswith("seti_"):
        intent["status"] = "succeeded"
    else:
        intent["status"] = "requires_capture"
    return JSONResponse(intent)


API_ROUTES = [
    Route("/v1/payment_methods", create_payment_method, methods=["POST"]),
    Route("/v1/payment_intents/{intent_id}", retrieve_intent, methods=["GET"]),
    Route("/v1/payment_intents/{intent_id}/confirm", confirm_intent, methods=["POST"]),
    Route("/v1/setup_intents/{intent_id}", retrieve_intent, methods=["GET"]),
    Route("/v1/setup_intents/{intent_id}/confirm", confirm_intent, methods=["POST"]),
]


def create_fake_app(sandbox: FakeSandbox | None = None) -> Starlette:
    # No extra headers allowed: like the real Stripe.js, ours must make only
    # "simple" CORS requests (no preflight), or these tests fail.
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"])
    app = Starlette(routes=[*ROUTES, *API_ROUTES], middleware=[cors])
    app.state.sandbox = sandbox or FakeSandbox()
    return app
