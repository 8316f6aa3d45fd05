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
    transaction.on_commit(partial(func, *args, **kwargs), robust=True)
