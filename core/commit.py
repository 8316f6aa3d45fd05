"""Side effects that wait for the transaction that caused them."""

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction


def after_commit(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Call `func(*args, **kwargs)` once the current transaction commits (at once
    outside one), never if it rolls back.

    For messages about a change (notifications): they are sent only for a change
    that happened, never while its row locks are held, and a failing one is logged
    by Django rather than undoing the committed change.
    """
    transaction.on_commit(_named(func, *args, **kwargs), robust=True)


def _named(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """`func` bound to its arguments, with the name Django logs a failed robust
    callback under: a bare `partial` has no `__qualname__`, and logging its failure
    raised AttributeError, a 500 after the commit the callback was protecting."""
    bound = partial(func, *args, **kwargs)

    def callback() -> Any:
        return bound()

    callback.__qualname__ = getattr(func, "__qualname__", repr(func))
    return callback
