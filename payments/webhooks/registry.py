"""Which function handles which Stripe event type."""

from collections.abc import Callable

Handler = Callable[[dict], None]
_HANDLERS: dict[str, Handler] = {}


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for `event_types` (each type once)."""

    def register(func: Handler) -> Handler:
        for event_type in event_types:
            if event_type in _HANDLERS:
                raise ValueError(f"{event_type} already handled by {_HANDLERS[event_type]}")
            _HANDLERS[event_type] = func
        return func

    return register


def handler_for(event_type: str) -> Handler | None:
    from payments.webhooks import handlers  # noqa: F401 - registers on import

    return _HANDLERS.get(event_type)


def handled_types() -> frozenset[str]:
    from payments.webhooks import handlers  # noqa: F401

    return frozenset(_HANDLERS)
