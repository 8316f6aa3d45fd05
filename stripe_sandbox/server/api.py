"""The ``/v1`` pipeline: one ASGI callable for every API request.

:meth:`ApiApp._handle` runs the steps in Stripe's order, each a small method or
function below with its reason in its docstring: latency → injected faults →
route → ``Stripe-Version`` → body decoding → authentication (key, CORS,
``Stripe-Account``) → idempotent replay → parameter validation → the resource
handler (under the state lock, with expansion and JSON) → storing the
idempotent result (whatever it is, a 500 included, as Stripe does). The first
step that has an answer raises it (a :class:`StripeError`) or returns it (a
replay). Any unexpected exception becomes a Stripe-shaped 500 ``api_error``;
the server never answers with a traceback. Every call is recorded in
``sandbox.request_log`` (see ``stripe_sandbox.request_log``).

CORS: the sandbox accepts *any* ``sk_test_…`` key, so a secret key proves
nothing and a web page must never be able to use one. Only the endpoints the
test Stripe.js calls with a publishable key (``Endpoint.publishable``) answer
cross-origin, and only when the request carries no secret key; their preflights
are allowed by endpoint (a preflight does not show the key). Every other answer
has no ``Access-Control-*`` header, and a secret-key request sent by a browser
(it has an ``Origin`` header) or passing its key as the ``key`` parameter (a
"simple" form POST could) is refused (see :mod:`.auth`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from .. import errors, ids, versions
from ..errors import StripeError, invalid_request
from ..idempotency import IdempotencyCache, StoredResponse
from ..render import render
from ..request_log import LoggedCall, field_names, field_values, recorded_headers
from ..resources import files as files_resource
from ..resources.common import Endpoint
from ..sandbox import API_VERSION, Ctx, Sandbox
from ..wire.forms import build_tree, parse_urlencoded
from ..wire.params import validate
from .auth import (
    Credentials,
    api_key_of,
    authenticate,
    mask,
    pop_card,
    refuse_secret_key_from_page,
    secret_key_presented,
)
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

PUBLISHABLE_EXTRA = frozenset({"client_secret"})
NO_EXTRA: frozenset[str] = frozenset()
MAX_FORM_BODY = 1024 * 1024
MAX_IDEMPOTENCY_KEY = 255
# Injected faults that answer with Stripe's 500 api_error.
SERVER_ERROR_FAULTS = ("500", "500_after")
INJECTED_500 = "An unknown error occurred (injected by the sandbox)."

# (status, JSON body, extra response headers)
Answer = tuple[int, bytes, dict[str, str]]


class Call:
    """One ``/v1`` request as the pipeline sees it.

    ``cors`` (may the answer be read cross-origin?) starts from the endpoint and
    the headers, and is withdrawn once the body shows a secret ``key``.
    """

    __slots__ = (
        "scope",
        "receive",
        "send",
        "method",
        "path",
        "headers",
        "matched",
        "cors",
        "fields",
        "values",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[str, str],
        matched: tuple[Endpoint, dict[str, str]] | None,
    ) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.headers = headers
        self.matched = matched
        self.cors = (
            matched is not None and matched[0].publishable and not secret_key_presented(headers)
        )
        # Names of the parameters sent, once the body is decoded (for the request log).
        self.fields: tuple[str, ...] = ()
        # Their values too, only when a test opted in (``Sandbox.record_values``).
        self.values: tuple[tuple[str, Any], ...] | None = None


class Idempotency(NamedTuple):
    """Where an idempotent request's answer is kept, and what it must match."""

    key: str
    scope_key: str
    fingerprint: str


class Prepared(NamedTuple):
    """A request that passed every check and may run its handler."""

    ctx: Ctx
    endpoint: Endpoint
    path_params: dict[str, str]
    clean: dict[str, Any]
    expand: Any
    idempotency: Idempotency | None


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
        call = Call(scope, receive, send, headers, self.router.match(method, scope["path"]))
        request_id = ids.new_id("req", 15)
        out_headers = [
            (b"request-id", request_id.encode()),
            (b"stripe-version", headers.get("stripe-version", API_VERSION).encode()),
        ]
        try:
            status, payload, extra = await self._handle(call, request_id)
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
        self.sandbox.request_log.append(
            LoggedCall(
                time.time(),
                method,
                scope["path"],
                status,
                call.fields,
                recorded_headers(headers),
                call.values,
            )
        )
        await send_bytes(send, status, payload, out_headers, cors=call.cors)

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

    async def _handle(self, call: Call, request_id: str) -> Answer:
        """The pipeline: each step either passes on what it learned or answers.

        An injected 500 answers every matching call, but is stored for the
        call's idempotency key only when the call got as far as its handler: a
        request refused before that, or answered by a replay, never reached the
        point where Stripe saves a result.
        """
        await self._simulate_latency()
        fault = await self._apply_fault(call)
        try:
            prepared = await self._prepare(call, request_id)
        except StripeError:
            if fault in SERVER_ERROR_FAULTS:
                raise errors.api_error(INJECTED_500) from None
            raise
        if not isinstance(prepared, Prepared):
            if fault in SERVER_ERROR_FAULTS:
                raise errors.api_error(INJECTED_500)
            return prepared  # a replay
        answer = self._execute(prepared, fault)
        if prepared.idempotency is not None:
            self._remember(prepared.idempotency, answer, request_id)
        if fault == "drop_after":
            await drop_connection(call.send)
        return answer

    async def _prepare(self, call: Call, request_id: str) -> Prepared | Answer:
        """Every step before the handler: the request ready to run, or the stored
        answer of an earlier request with its idempotency key."""
        endpoint, path_params = await self._route(call)
        versions.check_header(call.headers.get("stripe-version"))
        params, upload = await self._decode(call, endpoint)
        call.fields = field_names(params)
        if self.sandbox.record_values:
            call.values = field_values(params)
        # CORS is decided again now that the body (which may hold a `key`) is read.
        if secret_key_presented(call.headers, params):
            call.cors = False
        credentials = authenticate(call.headers, params, endpoint)
        if credentials.account is not None:
            self._check_account(credentials.account, credentials.api_key)
        raw_key = call.headers.get("idempotency-key") if call.method == "POST" else None
        idempotency = idempotency_scope(call, raw_key, credentials)
        if idempotency is not None:
            replay = self._replay(idempotency)
            if replay is not None:
                return replay
        clean, expand = prepare_params(endpoint, credentials, upload)
        ctx = Ctx(
            self.sandbox,
            account=credentials.account,
            request_id=request_id,
            idempotency_key=raw_key,
            publishable=credentials.publishable,
        )
        return Prepared(ctx, endpoint, path_params, clean, expand, idempotency)

    def _execute(self, prepared: Prepared, fault: str | None) -> Answer:
        """Run the handler, or answer the injected 500 instead of it (``500``: nothing
        changes) or after it (``500_after``: its changes stay, its answer is lost)."""
        if fault != "500":
            answer = self._dispatch(
                prepared.ctx,
                prepared.endpoint,
                prepared.path_params,
                prepared.clean,
                prepared.expand,
            )
            if fault != "500_after":
                return answer
        error = errors.api_error(INJECTED_500)
        extra: dict[str, str] = {}
        if prepared.idempotency is not None:
            # Stored, so the same key gets this 500 again: the SDK is told not to
            # retry it (Stripe's own 500s carry this header for the same reason).
            extra = {"Idempotency-Key": prepared.idempotency.key, "Stripe-Should-Retry": "false"}
        return error.status, dumps(error.body), extra

    # --- the steps, in order ------------------------------------------------------

    async def _simulate_latency(self) -> None:
        """``--latency-ms`` / ``POST /_sandbox/latency``: make timeouts testable."""
        if self.sandbox.latency_ms:
            await asyncio.sleep(self.sandbox.latency_ms / 1000)

    async def _apply_fault(self, call: Call) -> str | None:
        """Consume the first fault rule matching this call (before anything else,
        so a fault hits even a request that would fail). ``429`` answers now (a
        rate limiter sits in front of Stripe's idempotency layer: nothing is
        stored), ``drop`` closes the connection now; ``500``, ``500_after`` and
        ``drop_after`` are returned for the pipeline to apply where they happen."""
        with self.sandbox.lock:
            fault = self.sandbox.faults.take(call.method, call.path)
        if fault == "429":
            raise errors.rate_limited()
        if fault == "drop":
            await drop_connection(call.send)
        return fault

    async def _route(self, call: Call) -> tuple[Endpoint, dict[str, str]]:
        """The endpoint and its path parameters, or Stripe's 404. File contents
        are not JSON, so they are answered here (see :meth:`_file_contents`)."""
        if call.matched is not None:
            return call.matched
        method, path = call.method, call.path
        if method == "GET" and path.startswith("/v1/files/") and path.endswith("/contents"):
            await self._file_contents(call.headers, path)
        raise invalid_request(
            f"Unrecognized request URL ({method}: {path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            status=404,
        )

    async def _decode(self, call: Call, endpoint: Endpoint) -> tuple[dict[str, Any], Any]:
        """Query string and body as one parameter tree, plus a file upload if any.

        A GET has only its query string; a POST body is form-encoded (its
        parameters win over the query string's) or, where the endpoint takes
        files, multipart. Anything else with a body is a 400; a body over 1 MiB
        a 413.
        """
        scope = call.scope
        query = parse_urlencoded(scope.get("query_string", b""))
        if call.method == "GET":
            return query, None
        content_type = call.headers.get("content-type", "").split(";")[0].strip().lower()
        if endpoint.multipart and content_type == "multipart/form-data":
            return await _decode_multipart(scope, call.receive)
        try:
            body = await read_body(call.receive, limit=MAX_FORM_BODY)
        except BodyTooLarge as exc:
            raise invalid_request("Request body too large.", status=413) from exc
        if body and content_type not in ("application/x-www-form-urlencoded", ""):
            raise invalid_request(
                f"Invalid request: unsupported Content-Type {content_type}. If error persists "
                "and you need assistance, please contact support@stripe.com."
            )
        params = parse_urlencoded(body)
        for key, value in query.items():
            params.setdefault(key, value)
        return params, None

    def _check_account(self, account: str, api_key: str) -> None:
        """``Stripe-Account`` must name a connected account: Stripe's 403 otherwise."""
        with self.sandbox.lock:
            obj = self.sandbox.store.get(account, "account")
        if obj is None:
            raise StripeError(
                403,
                "invalid_request_error",
                f"The provided key '{mask(api_key)}' does not have access to account "
                f"'{account}' (or that account does not exist). Application access may have "
                "been revoked.",
                code="account_invalid",
            )

    def _replay(self, idempotency: Idempotency) -> Answer | None:
        """The stored answer to an earlier request with this key, if there was one.

        The same key with other parameters (or method, or path) is Stripe's 400
        ``idempotency_error``, so a client bug cannot silently get another answer.
        """
        with self.sandbox.lock:
            stored = self.sandbox.idempotency.get(idempotency.scope_key, self.sandbox.clock.time())
        if stored is None:
            return None
        key = idempotency.key
        if stored.fingerprint != idempotency.fingerprint:
            raise StripeError(
                400,
                "idempotency_error",
                f"Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
            )
        headers = {
            "Idempotent-Replayed": "true",
            "Idempotency-Key": key,
            "Original-Request": stored.request_id,
        }
        if stored.status >= 500:
            headers["Stripe-Should-Retry"] = "false"  # the same key gets the same 500
        return stored.status, stored.body.encode(), headers

    def _dispatch(
        self,
        ctx: Ctx,
        endpoint: Endpoint,
        path_params: dict[str, str],
        clean: dict[str, Any],
        expand: Any,
    ) -> Answer:
        """Run the handler under the state lock and render its result.

        A :class:`StripeError` from the handler (a decline, a state error) is an
        answer like any other: it is returned, so it can be stored for replay.
        """
        sandbox = self.sandbox
        extra: dict[str, str] = {}
        if ctx.idempotency_key:
            extra["Idempotency-Key"] = ctx.idempotency_key
        try:
            with sandbox.mutation():
                result = endpoint.handler(ctx, clean, **path_params)
                return 200, dumps(render(sandbox.store, result, expand)), extra
        except StripeError as exc:
            extra.update(exc.headers)
            return exc.status, dumps(exc.body), extra

    def _remember(self, idempotency: Idempotency, answer: Answer, request_id: str) -> None:
        """Keep the answer for replays, whatever it is: Stripe saves the result of
        every request whose endpoint began executing, 500 errors included, so a
        retry with the same key gets the same 500 (docs: idempotent requests)."""
        status, payload, _ = answer
        sandbox = self.sandbox
        with sandbox.lock:
            sandbox.idempotency.put(
                idempotency.scope_key,
                StoredResponse(
                    idempotency.fingerprint,
                    status,
                    payload.decode(),
                    request_id,
                    sandbox.clock.time(),
                ),
            )
            sandbox.store.flush()

    async def _file_contents(self, headers: dict[str, str], path: str) -> None:
        """``GET /v1/files/{id}/contents``: the raw upload, secret key only."""
        api_key = api_key_of(headers, {})
        if api_key.startswith("pk_"):
            raise errors.authentication("This API call cannot be made with a publishable key.")
        refuse_secret_key_from_page(headers)
        account = headers.get("stripe-account") or None
        file_id = path.split("/")[3]
        with self.sandbox.lock:
            data, media = files_resource.contents(Ctx(self.sandbox, account=account), file_id)
        raise _RawResponse(data, media)


def idempotency_scope(
    call: Call, raw_key: str | None, credentials: Credentials
) -> Idempotency | None:
    """The idempotency scope of a POST with a non-empty ``Idempotency-Key``.

    Keys are per API key and ``Stripe-Account``; the fingerprint (method, path,
    parameters) is what a replay must repeat.
    """
    if not raw_key:
        return None
    if len(raw_key) > MAX_IDEMPOTENCY_KEY:
        raise invalid_request(
            "Idempotency-Key must be at most 255 characters long.", param="Idempotency-Key"
        )
    fingerprint = f"{call.method} {call.path} " + json.dumps(
        credentials.params, sort_keys=True, default=str
    )
    return Idempotency(
        raw_key,
        IdempotencyCache.scope_key(credentials.api_key, credentials.account, raw_key),
        fingerprint,
    )


def prepare_params(
    endpoint: Endpoint, credentials: Credentials, upload: Any
) -> tuple[dict[str, Any], Any]:
    """Validated parameters for the handler, and the ``expand`` list apart.

    Raw card details from Stripe.js (publishable key only) and an uploaded file
    are not wire parameters of the SDK's types: they bypass validation and
    reach the handler as ``_card`` / ``_upload``.
    """
    params = credentials.params
    card = pop_card(params) if credentials.publishable else None
    clean = validate(
        endpoint.params, params, extra=PUBLISHABLE_EXTRA if credentials.publishable else NO_EXTRA
    )
    if card is not None:
        clean["_card"] = card
    if upload is not None:
        clean["_upload"] = upload
    expand = clean.pop("expand", None)
    return clean, expand


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
        is_file = hasattr(value, "read")
        # As Stripe: the upload is the one file part named `file`. A `file` sent as
        # text, or a file under another name (`file[1]`, what an SDK makes of a
        # `(name, file)` tuple), is refused rather than guessed at.
        if (key == "file") != is_file:
            raise invalid_request(
                "Invalid file: send the file as one multipart/form-data file part named "
                f"`file` (got a {'file' if is_file else 'text'} part named `{key}`).",
                param="file",
            )
        if is_file:
            upload = (value.filename or "", await value.read())
            pairs.append((key, "<file>"))
        else:
            pairs.append((key, value))
    return build_tree(pairs), upload


def _headers(scope: Scope) -> dict[str, str]:
    return {
        key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]
    }
