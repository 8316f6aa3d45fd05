"""The ``/v1`` pipeline: one ASGI callable for every API request.

Order of work, as Stripe's: CORS preflight → latency → injected faults → route
→ authentication → ``Stripe-Account`` → body decoding → idempotent replay →
parameter validation → the resource handler (under the state lock) → expansion
→ JSON. Any unexpected exception becomes a Stripe-shaped 500 ``api_error``;
the server never answers with a traceback.

CORS: the sandbox accepts *any* ``sk_test_…`` key, so a secret key proves
nothing and a web page must never be able to use one. Only the endpoints the
test Stripe.js calls with a publishable key (``Endpoint.publishable``) answer
cross-origin, and only when the request carries no secret key; their preflights
are allowed by endpoint (a preflight does not show the key). Every other answer
has no ``Access-Control-*`` header, and a secret-key request sent by a browser
(it has an ``Origin`` header) or passing its key as the ``key`` parameter (a
"simple" form POST could) is refused.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from .. import errors, ids
from ..errors import StripeError, invalid_request
from ..idempotency import IdempotencyCache, StoredResponse
from ..render import render
from ..resources import files as files_resource
from ..resources.common import Endpoint
from ..sandbox import API_VERSION, Ctx, Sandbox
from ..wire.forms import build_tree, parse_urlencoded
from ..wire.params import validate
from .http import (
    PREFLIGHT_HEADERS,
    BodyTooLarge,
    drop_connection,
    dumps,
    read_body,
    send_bytes,
)
from .routing import Router

log = logging.getLogger("stripe_sandbox")

# Telemetry and routing fields Stripe.js adds to its publishable-key calls.
CLIENT_NOISE = frozenset(
    {
        "key",
        "_stripe_account",
        "_stripe_version",
        "payment_user_agent",
        "time_on_page",
        "guid",
        "muid",
        "sid",
        "referrer",
        "expected_payment_method_type",
        "client_attribution_metadata",
    }
)
PUBLISHABLE_EXTRA = frozenset({"client_secret"})


class _Exchange:
    """Per-request state the pipeline updates: may the answer be read cross-origin?"""

    __slots__ = ("cors",)

    def __init__(self, cors: bool) -> None:
        self.cors = cors


class ApiApp:
    """ASGI app for ``/v1/...``."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.router = Router()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        headers = _headers(scope)
        if method == "OPTIONS":
            await self._preflight(scope["path"], headers, send)
            return
        matched = self.router.match(method, scope["path"])
        # Decided again once the body (which may hold the `key`) is read.
        exchange = _Exchange(
            matched is not None and matched[0].publishable and not _secret_key_presented(headers)
        )
        request_id = ids.new_id("req", 15)
        out_headers = [
            (b"request-id", request_id.encode()),
            (b"stripe-version", headers.get("stripe-version", API_VERSION).encode()),
        ]
        try:
            status, payload, extra = await self._handle(
                scope, receive, send, method, headers, request_id, matched, exchange
            )
        except StripeError as exc:
            status, payload, extra = exc.status, dumps(exc.body), exc.headers
        except ConnectionAbortedError:
            return
        except _RawResponse as raw:
            await send_bytes(send, 200, raw.data, out_headers, raw.media.encode())
            return
        except Exception:  # never leak a traceback to the client
            log.exception("unhandled error in %s %s", method, scope["path"])
            error = errors.api_error()
            status, payload, extra = error.status, dumps(error.body), {}
        out_headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        self.sandbox.request_log.append((time.time(), method, scope["path"], status))
        await send_bytes(send, status, payload, out_headers, cors=exchange.cors)

    async def _preflight(self, path: str, headers: dict[str, str], send: Send) -> None:
        """Allow a cross-origin preflight only for an endpoint Stripe.js calls.

        The preflight carries no key, so the decision is by endpoint; the real
        request is then refused if it brings a secret key from a page.
        """
        requested = headers.get("access-control-request-method", "").upper()
        matched = self.router.match(requested, path) if requested else None
        allowed = matched is not None and matched[0].publishable
        await send_bytes(
            send, 204, b"", PREFLIGHT_HEADERS if allowed else [], b"text/plain", cors=allowed
        )

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        method: str,
        headers: dict[str, str],
        request_id: str,
        matched: tuple[Endpoint, dict[str, str]] | None,
        exchange: _Exchange,
    ) -> tuple[int, bytes, dict[str, str]]:
        sandbox = self.sandbox
        path = scope["path"]
        if sandbox.latency_ms:
            await asyncio.sleep(sandbox.latency_ms / 1000)
        with sandbox.lock:
            fault = sandbox.faults.take(method, path)
        if fault == "500":
            raise errors.api_error("An unknown error occurred (injected by the sandbox).")
        if fault == "429":
            raise errors.rate_limited()
        if fault == "drop":
            await drop_connection(send)
        if matched is None:
            if method == "GET" and path.startswith("/v1/files/") and path.endswith("/contents"):
                return await self._file_contents(headers, path)
            raise invalid_request(
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                status=404,
            )
        endpoint, path_params = matched
        try:
            params, upload = await self._decode(scope, receive, endpoint, headers)
        except BodyTooLarge as exc:
            raise invalid_request("Request body too large.", status=413) from exc
        if _secret_key_presented(headers, params):
            exchange.cors = False
        api_key = _api_key(headers, params)
        publishable = api_key.startswith("pk_test_")
        if not publishable:
            _refuse_secret_key_from_page(headers)
        if publishable:
            if not endpoint.publishable:
                raise errors.authentication(
                    "This API call cannot be made with a publishable API key. Please use a "
                    "secret API key. You can find a list of your API keys at "
                    "https://dashboard.stripe.com/account/apikeys."
                )
            account = params.get("_stripe_account") or headers.get("stripe-account")
            params = _strip_client_noise(params)
        else:
            account = headers.get("stripe-account")
        account = account or None
        if account is not None:
            self._check_account(account, api_key)
        idempotency_key = headers.get("idempotency-key") if method == "POST" else None
        scope_key = fingerprint = None
        if idempotency_key:
            if len(idempotency_key) > 255:
                raise invalid_request(
                    "Idempotency-Key must be at most 255 characters long.", param="Idempotency-Key"
                )
            scope_key = IdempotencyCache.scope_key(api_key, account, idempotency_key)
            fingerprint = f"{method} {path} " + json.dumps(params, sort_keys=True, default=str)
            replay = self._replay(scope_key, fingerprint, idempotency_key)
            if replay is not None:
                return replay
        card = _pop_card(params) if publishable else None
        clean = validate(
            endpoint.params, params, extra=PUBLISHABLE_EXTRA if publishable else frozenset()
        )
        if card is not None:
            clean["_card"] = card
        if upload is not None:
            clean["_upload"] = upload
        expand = clean.pop("expand", None)
        ctx = Ctx(
            sandbox,
            account=account,
            request_id=request_id,
            idempotency_key=idempotency_key,
            publishable=publishable,
        )
        extra: dict[str, str] = {}
        if idempotency_key:
            extra["Idempotency-Key"] = idempotency_key
        try:
            with sandbox.mutation():
                result = endpoint.handler(ctx, clean, **path_params)
                status, payload = 200, dumps(render(sandbox.store, result, expand))
        except StripeError as exc:
            status, payload = exc.status, dumps(exc.body)
            extra.update(exc.headers)
        if scope_key is not None and fingerprint is not None and status != 500:
            with sandbox.lock:
                sandbox.idempotency.put(
                    scope_key, StoredResponse(fingerprint, status, payload.decode(), request_id)
                )
                sandbox.store.flush()
        if fault == "drop_after":
            await drop_connection(send)
        return status, payload, extra

    def _replay(
        self, scope_key: str, fingerprint: str, key: str
    ) -> tuple[int, bytes, dict[str, str]] | None:
        with self.sandbox.lock:
            stored = self.sandbox.idempotency.get(scope_key)
        if stored is None:
            return None
        if stored.fingerprint != fingerprint:
            raise StripeError(
                400,
                "idempotency_error",
                f"Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
            )
        return (
            stored.status,
            stored.body.encode(),
            {
                "Idempotent-Replayed": "true",
                "Idempotency-Key": key,
                "Original-Request": stored.request_id,
            },
        )

    def _check_account(self, account: str, api_key: str) -> None:
        with self.sandbox.lock:
            obj = self.sandbox.store.get(account, "account")
        if obj is None:
            raise StripeError(
                403,
                "invalid_request_error",
                f"The provided key '{_mask(api_key)}' does not have access to account "
                f"'{account}' (or that account does not exist). Application access may have "
                "been revoked.",
                code="account_invalid",
            )

    async def _decode(
        self, scope: Scope, receive: Receive, endpoint: Endpoint, headers: dict[str, str]
    ) -> tuple[dict[str, Any], Any]:
        query = parse_urlencoded(scope.get("query_string", b""))
        if scope["method"] == "GET":
            return query, None
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if endpoint.multipart and content_type == "multipart/form-data":
            return await _decode_multipart(scope, receive)
        body = await read_body(receive, limit=1024 * 1024)
        if body and content_type not in ("application/x-www-form-urlencoded", ""):
            raise invalid_request(
                f"Invalid request: unsupported Content-Type {content_type}. If error persists "
                "and you need assistance, please contact support@stripe.com."
            )
        params = parse_urlencoded(body)
        for key, value in query.items():
            params.setdefault(key, value)
        return params, None

    async def _file_contents(
        self, headers: dict[str, str], path: str
    ) -> tuple[int, bytes, dict[str, str]]:
        api_key = _api_key(headers, {})
        if api_key.startswith("pk_"):
            raise errors.authentication("This API call cannot be made with a publishable key.")
        _refuse_secret_key_from_page(headers)
        account = headers.get("stripe-account") or None
        file_id = path.split("/")[3]
        with self.sandbox.lock:
            data, media = files_resource.contents(Ctx(self.sandbox, account=account), file_id)
        raise _RawResponse(data, media)


class _RawResponse(Exception):
    def __init__(self, data: bytes, media: str) -> None:
        self.data, self.media = data, media


async def _decode_multipart(scope: Scope, receive: Receive) -> tuple[dict[str, Any], Any]:
    request = Request(scope, receive)
    try:
        form = await request.form(max_files=1, max_fields=100, max_part_size=17 * 1024 * 1024)
    except Exception as exc:  # noqa: BLE001 - malformed multipart of any kind
        raise invalid_request("Invalid multipart body.") from exc
    pairs: list[tuple[str, Any]] = []
    upload = None
    for key, value in form.multi_items():
        if hasattr(value, "read"):
            upload = (value.filename or "", await value.read())
            pairs.append((key, "<file>"))
        else:
            pairs.append((key, value))
    return build_tree(pairs), upload


def _headers(scope: Scope) -> dict[str, str]:
    return {
        key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]
    }


def _mask(key: str) -> str:
    return f"{key[:8]}{'*' * max(0, len(key) - 12)}{key[-4:]}" if len(key) > 12 else "****"


def _header_key(headers: dict[str, str]) -> str:
    """The key in ``Authorization`` (Bearer or Basic), ``""`` if none is readable."""
    auth = headers.get("authorization", "").strip()
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if auth.lower().startswith("basic "):
        try:
            return base64.b64decode(auth[6:].strip()).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def _param_key(headers: dict[str, str], params: dict[str, Any]) -> str:
    """Stripe.js's ``key`` parameter, used only when there is no ``Authorization``."""
    if headers.get("authorization", "").strip() or not isinstance(params.get("key"), str):
        return ""
    return unquote(params["key"])


def _secret_key_presented(headers: dict[str, str], params: dict[str, Any] | None = None) -> bool:
    """Whether the request brings anything but a publishable key (or no key at all)."""
    if headers.get("authorization", "").strip():
        return not _header_key(headers).startswith("pk_")
    key = _param_key(headers, params or {})
    return bool(key) and not key.startswith("pk_")


def _refuse_secret_key_from_page(headers: dict[str, str]) -> None:
    """A browser sends ``Origin`` with every cross-origin or POST request; a server
    SDK never does. Any ``sk_test_`` key works here, so from a page it must not."""
    if "origin" in headers:
        raise errors.authentication(
            "Secret API keys cannot be used from a web page (this request has an Origin "
            "header): call the API with them from your server, and use your publishable "
            "key with Stripe.js in the browser. (Offline Stripe sandbox restriction.)"
        )


def _api_key(headers: dict[str, str], params: dict[str, Any]) -> str:
    """The API key from ``Authorization`` (Bearer or Basic) or Stripe.js's ``key``."""
    key = _header_key(headers)
    param_key = _param_key(headers, params)
    if param_key.startswith(("sk_", "rk_")):
        # A cross-site form POST can carry a `key` parameter but not a header.
        raise errors.authentication(
            "The key parameter only takes a publishable key (pk_test_…), as Stripe.js "
            "sends it; send a secret key in the Authorization header. (Offline Stripe "
            "sandbox restriction.)"
        )
    key = key or param_key
    if not key:
        raise errors.authentication(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
            "or we can help at https://support.stripe.com/."
        )
    if not key.startswith(("sk_test_", "rk_test_", "pk_test_")) or len(key) < 12:
        raise errors.authentication(f"Invalid API Key provided: {_mask(key)}")
    return key


def _strip_client_noise(params: dict[str, Any]) -> dict[str, Any]:
    clean = {key: value for key, value in params.items() if key not in CLIENT_NOISE}
    data = clean.get("payment_method_data")
    if isinstance(data, dict):
        clean["payment_method_data"] = {
            key: value for key, value in data.items() if key not in CLIENT_NOISE
        }
    return clean


def _pop_card(params: dict[str, Any]) -> dict[str, Any] | None:
    """Stripe.js may send raw card details inside ``payment_method_data[card]``."""
    data = params.get("payment_method_data")
    if isinstance(data, dict) and isinstance(data.get("card"), dict):
        card = data.pop("card")
        data.pop("type", None)
        if not data:
            params.pop("payment_method_data")
        return dict(card.items())
    return None
