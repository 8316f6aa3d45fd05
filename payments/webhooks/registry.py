"""Which function handles which Stripe event type, and from where it is accepted.

A signature proves Stripe sent an event, not that it may touch what it names: a
Connect event is signed for *any* connected account, and the platform's own
events carry no account at all. So each registration says which endpoint the
event type is accepted from and which check proves the event's `account` owns
the object. `event_process` asks `Route.refusal` before running the handler; a
refused event is stored as ignored, with the reason, and changes nothing.

Stripe sends events about objects on the platform's account (PaymentIntents,
charges, refunds and disputes of destination charges, transfers) to the platform
endpoint, without `account`; events about objects on a connected account
(the account itself, its balance, its payouts) to the Connect endpoint, with
`account` set to that account (docs.stripe.com/connect/webhooks).
"""

from collections.abc import Callable
from dataclasses import dataclass

from payments.models import StripeEvent

PLATFORM = StripeEvent.Endpoint.PLATFORM
CONNECT = StripeEvent.Endpoint.CONNECT

Handler = Callable[[StripeEvent], None]
# Why the event's source may not touch the object it carries, or None when it may.
Owner = Callable[[StripeEvent], str | None]


@dataclass(frozen=True)
class Route:
    handler: Handler
    endpoint: str  # PLATFORM or CONNECT
    kind: str  # the Stripe object in data.object ("refund", "payout", …)
    owner: Owner | None = None

    def refusal(self, event: StripeEvent) -> str | None:
        """Why `event` may not run this route's handler, or None."""
        from_connect = event.endpoint == CONNECT
        # Connect deliveries always name their account; platform ones never do.
        if event.endpoint != self.endpoint or bool(event.account) != from_connect:
            return f"ignored: {source(event)} for {self.kind} owned by {self._owner_name}"
        return self.owner(event) if self.owner else None

    @property
    def _owner_name(self) -> str:
        return "the platform" if self.endpoint == PLATFORM else "a connected account"


def source(event: StripeEvent) -> str:
    """Where an event came from, in the words the ignore reasons use."""
    account = event.account or "no account"
    if event.endpoint == CONNECT:
        return f"connect event from {account}"
    return "platform event" + (f" naming {event.account}" if event.account else "")


_ROUTES: dict[str, Route] = {}


def handles(
    *event_types: str, endpoint: str, kind: str, owner: Owner | None = None
) -> Callable[[Handler], Handler]:
    """Register the decorated function for `event_types` (each type once), accepted
    only from `endpoint` and, when given, only if `owner(event)` finds no reason not to."""
    if endpoint not in (PLATFORM, CONNECT):
        raise ValueError(f"Unknown webhook endpoint {endpoint!r}")

    def register(func: Handler) -> Handler:
        for event_type in event_types:
            if event_type in _ROUTES:
                raise ValueError(f"{event_type} already handled by {_ROUTES[event_type].handler}")
            _ROUTES[event_type] = Route(func, endpoint, kind, owner)
        return func

    return register


def route_for(event_type: str) -> Route | None:
    from payments.webhooks import handlers  # noqa: F401 - registers on import

    return _ROUTES.get(event_type)


def routes() -> dict[str, Route]:
    """Every registered event type and its route (a copy)."""
    from payments.webhooks import handlers  # noqa: F401

    return dict(_ROUTES)


def handled_types() -> frozenset[str]:
    return frozenset(routes())
