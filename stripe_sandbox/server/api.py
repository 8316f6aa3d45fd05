"""The ``/v1`` pipeline: one ASGI callable for every API request.

Order of work, as Stripe's: CORS preflight → latency → injected faults → route
→ authentication → ``Stripe-Account`` → body decoding → idempotent replay →
parameter validation → the resource handler (under the state lock) → expansion
→ JSON. Any unexpected exception becomes a Stripe-shaped 500 ``api_error``;
the server never answers with a traceback.
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


class ApiApp:
    """ASGI app for ``/v1/...``."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.router = Router()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            await send_bytes(send, 204, b"", PREFLIGHT_HEADERS, b"text/plain")
            return
        request_id = ids.new_id("req", 15)
        headers = _headers(scope)
        out_headers = [
            (b"request-id", request_id.encode()),
            (b"stripe-version", headers.get("stripe-version", API_VERSION).encode()),
        ]
        try:
            status, payload, extra = await self._handle(
                scope, receive, send, method, headers, request_id
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
        await send_bytes(send, status, payload, out_headers)

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        method: str,
        headers: dict[str, str],
        request_id: str,
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
        matched = self.router.match(method, path)
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
        api_key = _api_key(headers, params)
        publishable = api_key.startswith("pk_test_")
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


def _api_key(headers: dict[str, str], params: dict[str, Any]) -> str:
    """The API key from ``Authorization`` (Bearer or Basic) or Stripe.js's ``key``."""
    auth = headers.get("authorization", "").strip()
    key = ""
    if auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    elif auth.lower().startswith("basic "):
        try:
            key = base64.b64decode(auth[6:].strip()).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif not auth and isinstance(params.get("key"), str):
        key = unquote(params["key"])
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
