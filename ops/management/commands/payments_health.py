"""Alert on stranded money work, for cron or a monitor: exit 1 when anything is overdue."""

from django.core.management.base import BaseCommand

from ops.backlog import ALERTS, backlog


class Command(BaseCommand):
    help = (
        "Report work that should have happened by now (webhook events unprocessed, "
        "captures overdue, refunds unsent, authorisations close to capture_before, "
        "payouts failed); exit 1 if any of them is not zero."
    )

    def handle(self, *args, **options):
        found = backlog()
        problems = []
        for name, (description, value) in found.items():
            flag = "!!" if name in ALERTS and value else "ok"
            self.stdout.write(f"{flag} {name} = {value:g}  ({description})")
            if flag == "!!":
                problems.append(name)
        if problems:
            self.stderr.write(f"Needs attention: {', '.join(problems)}")
            raise SystemExit(1)
        self.stdout.write("Nothing is stranded.")
