"""python manage.py reconcile: list every difference between our books and Stripe's.

Exits 1 when there is any, so it can run from cron or CI and alert.
"""

import sys
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments import gateway
from payments.services.reconcile import mismatches_csv, reconcile


class Command(BaseCommand):
    help = "Compare orders, payments, refunds, fees and debits with Stripe; exit 1 on any mismatch."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="How far back to look.")
        parser.add_argument("--csv", metavar="FILE", help="Also write the mismatches as CSV.")

    def handle(self, *args, days: int, csv: str | None, **options):
        if days <= 0:
            raise CommandError("--days must be positive.")
        since: datetime = timezone.now() - timedelta(days=days)
        try:
            mismatches = reconcile(since=since)
        except gateway.GatewayUnavailable as exc:
            raise CommandError(f"Stripe is unreachable: {exc}") from exc
        if csv:
            with open(csv, "w", newline="", encoding="utf-8") as out:
                out.write(mismatches_csv(mismatches))
        if not mismatches:
            self.stdout.write(self.style.SUCCESS(f"No mismatches in the last {days} days."))
            return
        for mismatch in mismatches:
            self.stdout.write(str(mismatch))
        self.stderr.write(self.style.ERROR(f"{len(mismatches)} mismatch(es)."))
        sys.exit(1)
