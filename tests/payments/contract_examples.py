"""Request examples from Stripe's documentation, for the gateway contract test
(issue #18): for the main requests the gateway sends, the parameters (and the
headers beyond the API key) that Stripe's own example request for that endpoint
sends, each with the page it is on.

Each example is kept to what Stripe's example sends, nothing more: its `fields`
are parameter names as the example writes them (`transfer_data[destination]`;
arrays like `enabled_events[]` and maps whose keys depend on the case, like
`evidence[...]`, by their name alone). The contract test asserts that our
request uses each of them for the same purpose, except where `differs` says
which of ours serves that purpose instead (None: none, on purpose) and why.

The sets were written from those pages by hand (not fetched at test time): when
one disagrees with its page, the page wins.

Where Stripe's example sends fewer parameters than we do (a cancel without a
reason, a capture without a fee), the rest of our request is held to the spec
and the SDK's typed params by the other checks, not to an example.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    page: str  # where Stripe shows the example request
    calls: tuple[str, ...]  # the gateway functions that send this request
    method: str
    template: str  # the spec's path
    fields: frozenset[str]
    headers: frozenset[str] = frozenset()
    # example field → (our field for the same purpose, or None; why ours differs)
    differs: dict[str, tuple[str | None, str]] = field(default_factory=dict)


EXAMPLES: dict[str, Example] = {
    "destination charge": Example(
        "docs.stripe.com/connect/destination-charges (create a PaymentIntent)",
        ("payment_intent_create",),
        "POST",
        "/v1/payment_intents",
        frozenset(
            {
                "amount",
                "currency",
                "automatic_payment_methods[enabled]",
                "application_fee_amount",
                "transfer_data[destination]",
            }
        ),
        differs={
            "automatic_payment_methods[enabled]": (
                "allowed_payment_method_types",
                "cards only, captured manually: we name the method types (the pinned "
                "version's name for payment_method_types) instead of the Dashboard's set",
            )
        },
    ),
    "partial capture": Example(
        "docs.stripe.com/payments/place-a-hold-on-a-payment-method (capture the funds); "
        "application_fee_amount is on docs.stripe.com/api/payment_intents/capture's "
        "parameter list, not in an example",
        ("payment_intent_capture",),
        "POST",
        "/v1/payment_intents/{intent}/capture",
        frozenset({"amount_to_capture"}),
    ),
    "cancel": Example(
        # Stripe's example cancels with no parameter; `cancellation_reason` is one of
        # the page's optional parameters (its values are checked against the spec).
        "docs.stripe.com/api/payment_intents/cancel",
        ("payment_intent_cancel",),
        "POST",
        "/v1/payment_intents/{intent}/cancel",
        frozenset(),
    ),
    "refund a destination charge": Example(
        "docs.stripe.com/connect/destination-charges (issue refunds)",
        ("refund_create",),
        "POST",
        "/v1/refunds",
        frozenset({"payment_intent", "reverse_transfer"}),
    ),
    "refund the application fee": Example(
        "docs.stripe.com/connect/destination-charges (refund application fees)",
        ("refund_create",),
        "POST",
        "/v1/refunds",
        frozenset({"charge", "reverse_transfer", "refund_application_fee"}),
        differs={
            "charge": (
                "payment_intent",
                "we refund by PaymentIntent (the API reference takes either); the intent "
                "names its charge",
            )
        },
    ),
    "transfer from a charge": Example(
        "docs.stripe.com/connect/separate-charges-and-transfers (transfer availability)",
        ("transfer_create",),
        "POST",
        "/v1/transfers",
        frozenset({"amount", "currency", "source_transaction", "destination"}),
    ),
    "transfer reversal": Example(
        "docs.stripe.com/api/transfer_reversals/create",
        ("transfer_reversal_create", "dispute_transfer_reverse"),
        "POST",
        "/v1/transfers/{id}/reversals",
        frozenset({"amount"}),
    ),
    "account link": Example(
        "docs.stripe.com/api/account_links/create",
        ("account_link_create",),
        "POST",
        "/v1/account_links",
        frozenset({"account", "refresh_url", "return_url", "type"}),
    ),
    "dispute evidence file": Example(
        "docs.stripe.com/api/files/create",
        ("dispute_evidence_upload",),
        "POST",
        "/v1/files",
        frozenset({"purpose", "file"}),
    ),
    "identity document file": Example(
        "docs.stripe.com/connect/handling-api-verification (upload a file): the "
        "connected account's file, uploaded with its Stripe-Account header",
        ("file_upload",),
        "POST",
        "/v1/files",
        frozenset({"purpose", "file"}),
        headers=frozenset({"Stripe-Account"}),
    ),
    "webhook endpoint": Example(
        "docs.stripe.com/api/webhook_endpoints/create",
        ("webhook_endpoint_create",),
        "POST",
        "/v1/webhook_endpoints",
        frozenset({"enabled_events", "url"}),
    ),
    "payout of a connected account": Example(
        "docs.stripe.com/connect/manual-payouts (payout on the connected account)",
        ("payout_create",),
        "POST",
        "/v1/payouts",
        frozenset({"amount", "currency"}),
        headers=frozenset({"Stripe-Account"}),
    ),
    "setup intent": Example(
        "docs.stripe.com/api/setup_intents/create",
        ("setup_intent_create",),
        "POST",
        "/v1/setup_intents",
        frozenset({"payment_method_types"}),
        differs={
            "payment_method_types": (
                None,
                "left to Stripe's default: the intent is confirmed with a card "
                "PaymentMethod the buyer entered (setup_intent_confirm)",
            )
        },
    ),
    "dispute evidence": Example(
        "docs.stripe.com/disputes/api (update a dispute; submit=false stages evidence)",
        ("dispute_update",),
        "POST",
        "/v1/disputes/{dispute}",
        frozenset({"evidence", "submit"}),
    ),
}
