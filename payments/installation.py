"""This install's identity, kept in its own database.

Two installs can have the same database settings (two developers' `db.sqlite3`, two
staging copies of one `DATABASE_URL` on different servers) and share one Stripe test
account; a random id written into the database the first time it is needed tells
them apart, and stays the same for every process of one install, and across
restarts, because it lives with the data the idempotency keys are derived from.
"""

import uuid

from django.db import models


class Installation(models.Model):
    """The one row (pk 1) naming this database."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    install_id = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "payments"

    def __str__(self) -> str:
        return str(self.install_id)


def installation_id() -> str:
    """This database's install id, created on first use (two processes racing to
    create it agree: the loser reads the winner's row)."""
    row, _ = Installation.objects.get_or_create(pk=1)
    return str(row.install_id)
