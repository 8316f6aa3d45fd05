"""Stripe-shaped errors.

Every failure the sandbox reports to an API client is a :class:`StripeError`
carrying the HTTP status and the exact JSON body Stripe would send, so the
`stripe` SDK raises the same exception class it would against api.stripe.com.
"""

from __future__ import annotations

from typing import Any

DOC_URL = "https://stripe.com/docs/error-codes/{code}"


class StripeError(Exception):
    """An API error: ``status`` is the HTTP status, ``body`` the JSON body."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        error: dict[str, Any] = {"type": error_type, "message": message}
        if code:
            error["code"] = code
            error["doc_url"] = DOC_URL.format(code=code.replace("_", "-"))
        if param:
            error["param"] = param
        if decline_code:
            error["decline_code"] = decline_code
        error.update({key: value for key, value in extra.items() if value is not None})
        self.body: dict[str, Any] = {"error": error}

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]

    @property
    def code(self) -> str | None:
        return self.error.get("code")


class LinkExpired(Exception):
    """An Account Link was already used or is past ``expires_at``.

    The hosted onboarding page answers it by redirecting to ``refresh_url``.
    """

    def __init__(self, refresh_url: str) -> None:
        super().__init__("account link expired")
        self.refresh_url = refresh_url


# --- constructors for the errors the sandbox raises most ------------------------


def invalid_request(
    message: str, *, param: str | None = None, code: str | None = None, status: int = 400
) -> StripeError:
    return StripeError(status, "invalid_request_error", message, code=code, param=param)


def resource_missing(noun: str, object_id: str, *, param: str | None = "id") -> StripeError:
    """404 ``resource_missing`` with Stripe's "No such customer: 'cus_x'" wording."""
    return StripeError(
        404,
        "invalid_request_error",
        f"No such {noun}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def missing_param(param: str) -> StripeError:
    return invalid_request(
        f"Missing required param: {param}.", param=param, code="parameter_missing"
    )


def unexpected_state(
    message: str, *, code: str = "payment_intent_unexpected_state", **extra: Any
) -> StripeError:
    return StripeError(400, "invalid_request_error", message, code=code, **extra)


def authentication(message: str) -> StripeError:
    return StripeError(401, "invalid_request_error", message)


def api_error(message: str = "An unknown error occurred") -> StripeError:
    return StripeError(500, "api_error", message)


def rate_limited() -> StripeError:
    return StripeError(
        429,
        "invalid_request_error",
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
    )
