"""Alert on stranded money work, for cron or a monitor: exit 1 when anything is overdue."""

from django.core.management.base import BaseCommand

from ops.backlog import ALERTS, backlog
from payments.webhooks.versions import foreign_version_report


class Command(BaseCommand):
    help = (
        "Report work that should have happened by now (webhook events unprocessed, "
        "captures overdue, refunds unsent, authorisations close to capture_before, "
        "payouts failed, webhook events in another API version); exit 1 if any of them "
        "is not zero."
    )

    def handle(self, *args, **options):
        found = backlog()
        problems = []
        for name, (description, value) in found.items():
            flag = "!!" if name in ALERTS and value else "ok"
            self.stdout.write(f"{flag} {name} = {value:g}  ({description})")
            if flag == "!!":
                problems.append(name)
        # Events in another API version: payloads the handlers may misread.
        for line in foreign_version_report():
            self.stdout.write(f"!! {line}")
            problems.append("webhook_api_version")
        if problems:
            self.stderr.write(f"Needs attention: {', '.join(problems)}")
            raise SystemExit(1)
        self.stdout.write("Nothing is stranded.")
