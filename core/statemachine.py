"""Allowed-transition tables for status fields, and the one locked way to move them.

Every status change in the project goes through `transition()`: it locks the row,
refuses a move the table does not allow, treats a repeat of the current status as
a harmless no-op (a duplicate webhook), and saves only the fields it changed.
"""

from collections.abc import Mapping, Set
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

# Keyed by status; TextChoices members are str, so a plain str looks them up.
TransitionTable = Mapping[Any, Set[str]]
M = TypeVar("M", bound=models.Model)


class InvalidTransition(Exception):
    """A status change the model's transition table does not allow."""

    def __init__(self, model_name: str, current: str, target: str):
        self.current = current
        self.target = target
        super().__init__(f"{model_name} cannot move from '{current}' to '{target}'.")


def is_allowed(table: TransitionTable, current: str, target: str) -> bool:
    return target in table.get(current, frozenset())


def transition(
    model: type[M],
    pk: Any,
    target: str,
    *,
    table: TransitionTable,
    changes: Mapping[str, Any] | None = None,
) -> tuple[M, bool]:
    """Move row `pk` of `model` to status `target` under a row lock.

    Returns the row and whether it changed. Must be called inside
    `transaction.atomic()` (the lock lasts until the caller commits) so the
    caller can write related rows in the same transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transition() must run inside transaction.atomic()")
    obj = model._default_manager.select_for_update().get(pk=pk)
    current = obj.status  # type: ignore[attr-defined]
    if current == target and not is_allowed(table, current, target):
        return obj, False
    if not is_allowed(table, current, target):
        raise InvalidTransition(model.__name__, current, target)
    fields = ["status"]
    obj.status = target  # type: ignore[attr-defined]
    for name, value in (changes or {}).items():
        setattr(obj, name, value)
        fields.append(name)
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        obj.updated_at = timezone.now()  # type: ignore[attr-defined]
        fields.append("updated_at")
    obj.save(update_fields=fields)
    return obj, True
