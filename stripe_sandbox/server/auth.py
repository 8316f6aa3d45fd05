"""Who is asking: the API key, whether it is publishable, and the account scope.

The sandbox accepts *any* ``sk_test_…`` key, so a secret key proves nothing and
a web page must never be able to use one: a secret key from a browser (it sends
an ``Origin`` header) or in the ``key`` parameter (a cross-site form could send
that without a preflight) is refused. A ``pk_test_…`` key works only on the
endpoints the test Stripe.js calls (``Endpoint.publishable``), as on Stripe.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, NamedTuple
from urllib.parse import unquote

from .. import errors
from ..resources.common import Endpoint

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


class Credentials(NamedTuple):
    """The outcome of :func:`authenticate`.

    ``params`` are the request's parameters as the rest of the pipeline should
    see them: for a publishable key, without Stripe.js's telemetry fields.
    """

    api_key: str
    publishable: bool
    account: str | None
    params: dict[str, Any]


def authenticate(
    headers: dict[str, str], params: dict[str, Any], endpoint: Endpoint
) -> Credentials:
    """Check the key against the endpoint and find the account the call acts for.

    Runs after the body is decoded because Stripe.js sends its publishable key
    (and ``_stripe_account``) as parameters. Raises Stripe's 401 for a missing,
    malformed or misplaced key.
    """
    api_key = api_key_of(headers, params)
    if not api_key.startswith("pk_test_"):
        refuse_secret_key_from_page(headers)
        return Credentials(api_key, False, headers.get("stripe-account") or None, params)
    if not endpoint.publishable:
        raise errors.authentication(
            "This API call cannot be made with a publishable API key. Please use a "
            "secret API key. You can find a list of your API keys at "
            "https://dashboard.stripe.com/account/apikeys."
        )
    account = params.get("_stripe_account") or headers.get("stripe-account")
    return Credentials(api_key, True, account or None, strip_client_noise(params))


def api_key_of(headers: dict[str, str], params: dict[str, Any]) -> str:
    """The API key from ``Authorization`` (Bearer or Basic) or Stripe.js's ``key``."""
    key = header_key(headers)
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
        raise errors.authentication(f"Invalid API Key provided: {mask(key)}")
    return key


def header_key(headers: dict[str, str]) -> str:
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


def secret_key_presented(headers: dict[str, str], params: dict[str, Any] | None = None) -> bool:
    """Whether the request brings anything but a publishable key (or no key at all)."""
    if headers.get("authorization", "").strip():
        return not header_key(headers).startswith("pk_")
    key = _param_key(headers, params or {})
    return bool(key) and not key.startswith("pk_")


def refuse_secret_key_from_page(headers: dict[str, str]) -> None:
    """A browser sends ``Origin`` with every cross-origin or POST request; a server
    SDK never does. Any ``sk_test_`` key works here, so from a page it must not."""
    if "origin" in headers:
        raise errors.authentication(
            "Secret API keys cannot be used from a web page (this request has an Origin "
            "header): call the API with them from your server, and use your publishable "
            "key with Stripe.js in the browser. (Offline Stripe sandbox restriction.)"
        )


def mask(key: str) -> str:
    """``sk_test_…`` shown in an error: the first 8 and last 4 characters."""
    return f"{key[:8]}{'*' * max(0, len(key) - 12)}{key[-4:]}" if len(key) > 12 else "****"


def strip_client_noise(params: dict[str, Any]) -> dict[str, Any]:
    """Drop Stripe.js's telemetry fields (top level and ``payment_method_data``)."""
    clean = {key: value for key, value in params.items() if key not in CLIENT_NOISE}
    data = clean.get("payment_method_data")
    if isinstance(data, dict):
        clean["payment_method_data"] = {
            key: value for key, value in data.items() if key not in CLIENT_NOISE
        }
    return clean


def pop_card(params: dict[str, Any]) -> dict[str, Any] | None:
    """Stripe.js may send raw card details inside ``payment_method_data[card]``."""
    data = params.get("payment_method_data")
    if isinstance(data, dict) and isinstance(data.get("card"), dict):
        card = data.pop("card")
        data.pop("type", None)
        if not data:
            params.pop("payment_method_data")
        return dict(card.items())
    return None
