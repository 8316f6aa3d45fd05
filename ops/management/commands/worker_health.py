"""Liveness of a Celery worker, for an orchestrator's probe: exit 0 if it answers."""

import socket

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Ping a Celery worker over the broker (celery inspect ping); exit 1 if it does "
        "not answer within --timeout seconds. Default: the worker on this host."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            default=f"celery@{socket.gethostname()}",
            help="the worker's node name (default: celery@<this host>)",
        )
        parser.add_argument("--timeout", type=float, default=5.0)

    def handle(self, *args, name: str, timeout: float, **options):
        from config.celery import app

        replies = app.control.ping(destination=[name], timeout=timeout)
        if not any(name in reply for reply in replies):
            raise CommandError(f"{name} did not answer within {timeout:g} s")
        self.stdout.write(f"{name} is alive")
