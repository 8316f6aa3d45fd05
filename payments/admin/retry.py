"""Staff's "Retry now" for money operations still to do (core/outbox.py): due at once,
with a fresh count, after the dispatcher gave up on them or to skip a long backoff."""

from django.contrib import messages

from core import outbox
from payments import dispatch


def retry_selected(modeladmin, request, queryset, *kind_names: str) -> None:
    retried = 0
    for kind in dispatch.kinds():
        if kind.name not in kind_names:
            continue
        pks = list(queryset.filter(kind.to_do).values_list("pk", flat=True))
        outbox.retry_now(kind.model, pks)
        for pk in pks:
            outbox.enqueue_on_commit(kind.task, pk)
        retried += len(pks)
    if retried:
        modeladmin.message_user(request, f"{retried} operation(s) sent again.", messages.SUCCESS)
    skipped = queryset.count() - retried
    if skipped:
        modeladmin.message_user(
            request, f"{skipped} skipped: nothing left to send for them.", messages.WARNING
        )
