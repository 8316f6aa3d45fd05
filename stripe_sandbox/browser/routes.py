"""Routes the browser talks to: the test Stripe.js (``/v3/``), the card Element
frame, the 3-D Secure challenge and the hosted Connect onboarding page.

The core app mounts ``ROUTES`` and exposes its state as ``app.state.sandbox``
(``three_d_secure_finish``, ``account_link_get``, ``onboarding_complete``).
The JavaScript itself only uses the public REST API with the publishable key.
"""

import re
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from stripe_sandbox.errors import LinkExpired, StripeError

from .pages import message, render

STATIC = Path(__file__).parent / "static"
INTENT_ID = re.compile(r"^(pi|seti)_\w+$")
# An origin Stripe.js passes so the challenge page can postMessage back to it only.
ORIGIN = re.compile(r"^https?://[\w.\-\[\]:]+$")
# Served fresh so an edited Stripe.js is picked up on reload.
NO_CACHE = {"Cache-Control": "no-cache"}


async def stripe_js(request: Request) -> Response:
    headers = {**NO_CACHE, "Access-Control-Allow-Origin": "*"}
    return FileResponse(STATIC / "stripe.js", media_type="application/javascript", headers=headers)


async def card_element(request: Request) -> Response:
    # Static: the frame reads its settings (key, parent origin, type) from its own URL.
    return FileResponse(STATIC / "card.html", media_type="text/html", headers=NO_CACHE)


# --- 3-D Secure --------------------------------------------------------------


async def challenge_page(request: Request) -> Response:
    intent_id = request.path_params["intent_id"]
    if not INTENT_ID.match(intent_id):
        return message(request, "Not found", "There is no payment to authenticate here.", 404)
    query = request.query_params
    return render(
        request,
        "challenge.html",
        intent_id=intent_id,
        origin=query.get("origin", ""),
        return_url=query.get("return_url", ""),
    )


async def challenge_finish(request: Request) -> Response:
    intent_id = request.path_params["intent_id"]
    if not INTENT_ID.match(intent_id):
        return message(request, "Not found", "There is no payment to authenticate here.", 404)
    form = await request.form()
    succeed = form.get("outcome") == "complete"
    origin = _param(request, form, "origin")
    origin = origin if ORIGIN.match(origin) else ""
    return_url = _http_url(_param(request, form, "return_url"))
    page = {"intent_id": intent_id, "origin": origin}

    try:
        intent = request.app.state.sandbox.three_d_secure_finish(intent_id, succeed)
    except StripeError as exc:
        # Still tell the opener (outcome "error"): Stripe.js re-reads the intent
        # and resolves with whatever state it is in, so the shop never hangs.
        text = _error_message(exc, "This payment does not need authentication.")
        return render(
            request,
            "challenge_done.html",
            exc.status,
            heading="Authentication not possible",
            message=text,
            outcome="error",
            **page,
        )

    if return_url:
        return RedirectResponse(_with_query(return_url, _return_params(intent)), status_code=303)
    heading = "Authentication complete" if succeed else "Authentication failed"
    return render(
        request,
        "challenge_done.html",
        heading=heading,
        message="You can return to the shop.",
        outcome="complete" if succeed else "fail",
        **page,
    )


def _param(request: Request, form, name: str) -> str:
    """Form field first, then the query string the challenge page was opened with."""
    value = form.get(name) or request.query_params.get(name) or ""
    return value if isinstance(value, str) else ""


def _http_url(url: str) -> str:
    """Only redirect to http(s) URLs (never ``javascript:``)."""
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _return_params(intent: dict) -> dict[str, str]:
    """What Stripe appends to a return_url after a redirect-based authentication."""
    name = "setup_intent" if intent["id"].startswith("seti_") else "payment_intent"
    status = intent.get("status")
    if status in ("succeeded", "requires_capture"):
        redirect_status = "succeeded"
    elif status == "processing":
        redirect_status = "pending"
    else:
        redirect_status = "failed"
    params = {name: intent["id"]}
    if intent.get("client_secret"):
        params[f"{name}_client_secret"] = intent["client_secret"]
    params["redirect_status"] = redirect_status
    return params


def _error_message(exc: StripeError, default: str) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("message") or default
    return default


# --- Connect onboarding --------------------------------------------------------


def _account_link(request: Request, link_id: str) -> dict | None:
    try:
        return request.app.state.sandbox.account_link_get(link_id)
    except StripeError:
        return None


def _link_unusable(request: Request, link: dict) -> bool:
    # The sandbox's clock can be fast-forwarded by tests; use it when there is one.
    clock = getattr(request.app.state.sandbox, "clock", None)
    now = clock.time() if clock is not None else time.time()
    return bool(link.get("used")) or link.get("expires_at", float("inf")) <= now


async def onboarding_page(request: Request) -> Response:
    link_id = request.path_params["link_id"]
    link = _account_link(request, link_id)
    if link is None:
        return message(request, "Link not found", "This onboarding link is not valid.", 404)
    if _link_unusable(request, link):
        # As on Stripe: a used or expired link sends the user to refresh_url for a new one.
        return RedirectResponse(link["refresh_url"], status_code=303)
    return render(request, "onboarding.html", account=link["account"])


async def onboarding_submit(request: Request) -> Response:
    link_id = request.path_params["link_id"]
    link = _account_link(request, link_id)
    if link is None:
        return message(request, "Link not found", "This onboarding link is not valid.", 404)
    # The form's fields are not checked here (the browser requires them): tests
    # may finish onboarding with a bare POST, and the core fills in test details.
    try:
        return_url = request.app.state.sandbox.onboarding_complete(link_id)
    except LinkExpired as exc:
        return RedirectResponse(exc.refresh_url or link["refresh_url"], status_code=303)
    return RedirectResponse(return_url, status_code=303)


ROUTES = [
    Route("/v3/", stripe_js, methods=["GET"]),
    Route("/v3", stripe_js, methods=["GET"]),
    Route("/elements/card", card_element, methods=["GET"]),
    Route("/3ds/{intent_id}", challenge_page, methods=["GET"]),
    Route("/3ds/{intent_id}", challenge_finish, methods=["POST"]),
    Route("/connect/onboarding/{link_id}", onboarding_page, methods=["GET"]),
    Route("/connect/onboarding/{link_id}", onboarding_submit, methods=["POST"]),
    Mount("/elements/assets", app=StaticFiles(directory=STATIC), name="sandbox-browser-assets"),
]
