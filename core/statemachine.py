"""Allowed-transition tables for status fields, and the one writer of every status.

Each model with a status state machine (Order, Payment, Refund, StripeEvent,
ContractorDebit) declares `TRANSITIONS`: for each status, the statuses it may move
to. Every status change in the project goes through this module, in one of three
forms that share one set of rules:

- `transition(Model, pk, target)` locks the row, then moves it;
- `transition_locked(row, target)` moves a row the caller has already locked with
  `select_for_update()` in the current transaction (it needed the row to decide
  what to do, like the payment a PaymentIntent snapshot names);
- `transition_update(Model, pk, target)` is one conditional UPDATE, for the
  webhook path, where a locked read and a save cost two more round trips.

The rules: a move the table forbids raises `InvalidTransition`, or, with
`may_be_late=True` (a Stripe snapshot that may arrive late or twice), is logged and
ignored, so a status never moves backwards. A repeat of the current status is a
no-op unless the table lists it (then only changed fields are written). Only the
fields that change are saved, `updated_at` with them.
"""

import logging
from collections.abc import Mapping, Set
from functools import cache
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# Keyed by status; TextChoices members are str, so a plain str looks them up.
TransitionTable = Mapping[Any, Set[str]]
M = TypeVar("M", bound=models.Model)


class InvalidTransition(Exception):
    """A status change the model's transition table does not allow."""

    def __init__(self, model_name: str, current: str, target: str):
        self.current = current
        self.target = target
        super().__init__(f"{model_name} cannot move from '{current}' to '{target}'.")


def table_of(model: type[models.Model]) -> TransitionTable:
    """The model's allowed-transition table (its `TRANSITIONS` attribute)."""
    table = getattr(model, "TRANSITIONS", None)
    if table is None:
        raise TypeError(f"{model.__name__} has no TRANSITIONS table")
    return table


def is_allowed(table: TransitionTable, current: str, target: str) -> bool:
    return target in table.get(current, frozenset())


@cache
def allowed_from(model: type[models.Model], target: str) -> frozenset[str]:
    """The statuses the model's table allows to move to `target`."""
    return frozenset(
        str(status) for status, targets in table_of(model).items() if target in targets
    )


def transition(
    model: type[M],
    pk: Any,
    target: str,
    *,
    changes: Mapping[str, Any] | None = None,
    may_be_late: bool = False,
) -> tuple[M, bool]:
    """Lock row `pk` of `model` and move it to status `target` (see `transition_locked`).

    Returns the row and whether it changed. Must be called inside
    `transaction.atomic()`: the lock lasts until the caller commits, so the caller
    can write related rows in the same transaction.
    """
    _require_atomic()
    obj = model._default_manager.select_for_update().get(pk=pk)
    return obj, transition_locked(obj, target, changes=changes, may_be_late=may_be_late)


def transition_locked(
    obj: models.Model,
    target: str,
    *,
    changes: Mapping[str, Any] | None = None,
    may_be_late: bool = False,
) -> bool:
    """Move `obj` to status `target`, with `changes` to its other fields; returns
    whether anything was saved.

    `obj` must have been read with `select_for_update()` in the current transaction.
    A move its table forbids raises InvalidTransition, or with `may_be_late` is
    logged and ignored (nothing is saved). Staying in the current status is a no-op
    unless the table allows it, e.g. a new decline on a payment still awaiting a card.
    """
    _require_atomic()
    model = type(obj)
    current = obj.status  # type: ignore[attr-defined]
    if not is_allowed(table_of(model), current, target):
        if current == target:
            return False  # a repeated event: already there
        if not may_be_late:
            raise InvalidTransition(model.__name__, current, target)
        logger.info(
            "%s %s stays '%s': a move to '%s' is not allowed (a late or repeated event).",
            model.__name__,
            obj.pk,
            current,
            target,
        )
        return False
    values = {"status": target, **(changes or {})}
    fields = [name for name, value in values.items() if getattr(obj, name) != value]
    if not fields:
        return False
    for name in fields:
        setattr(obj, name, values[name])
    if _has_updated_at(model):
        obj.updated_at = timezone.now()  # type: ignore[attr-defined]
        fields.append("updated_at")
    obj.save(update_fields=fields)
    return True


def transition_update(
    model: type[models.Model],
    pk: Any,
    target: str,
    *,
    changes: Mapping[str, Any] | None = None,
) -> bool:
    """Move row `pk` to `target` in a single UPDATE, only from a status the table
    allows; returns whether the row moved (the caller says why it did not).

    The database holds the row lock while the UPDATE runs, so `changes` may be
    expressions computed from the row (`F("attempts") + 1`) without a lost update.
    Outside a transaction the UPDATE commits on its own.
    """
    values = {**(changes or {}), "status": target}
    if _has_updated_at(model):
        values["updated_at"] = timezone.now()
    rows = model._default_manager.filter(pk=pk, status__in=sorted(allowed_from(model, target)))
    return bool(rows.update(**values))


@cache
def _has_updated_at(model: type[models.Model]) -> bool:
    return any(f.name == "updated_at" for f in model._meta.concrete_fields)


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transition() must run inside transaction.atomic()")
