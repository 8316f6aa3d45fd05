"""python manage.py stripe_setup --base-url https://shop.example.com

Creates, or brings up to date, the shop's two webhook endpoints at Stripe:
platform events, and Connect events (`connect=true`), each subscribed to exactly
the event types the handler registry handles from it, in the pinned API version.
Run it again whenever the handlers change: it updates, it does not duplicate.

Stripe shows an endpoint's signing secret once, in the answer that creates it,
so the secrets are printed only then. When that answer is lost (a 500 after the
endpoint was made: the gateway finds the endpoint in the list, which never shows
a secret), the endpoint is deleted and made again; if that fails too, the command
says to roll the secret in the dashboard and exits non-zero, and never prints an
empty secret. An endpoint's API version cannot be
changed; when the pin moves, a new endpoint is created beside the old one, whose
id is printed so it can be deleted once the new secret is deployed.
"""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from payments import gateway
from payments.gateway import keys
from payments.webhooks.registry import CONNECT, PLATFORM, routes

# Endpoint role → (URL name, the setting its signing secret goes in).
ENDPOINTS: dict[str, tuple[str, str]] = {
    PLATFORM: ("payments:webhook_platform", "STRIPE_WEBHOOK_SECRET"),
    CONNECT: ("payments:webhook_connect", "STRIPE_CONNECT_WEBHOOK_SECRET"),
}


def event_types(role: str) -> list[str]:
    """What the registry accepts from the `role` endpoint, sorted."""
    return sorted(event_type for event_type, route in routes().items() if route.endpoint == role)


class Command(BaseCommand):
    help = "Create or update the platform and Connect webhook endpoints at Stripe."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            required=True,
            help="The shop's public address, e.g. https://shop.example.com",
        )

    def handle(self, *args, base_url: str, **options):
        if not base_url.startswith(("https://", "http://")):
            raise CommandError("--base-url must be an http(s) address.")
        self.secrets_lost: list[str] = []
        try:
            existing = gateway.webhook_endpoint_list()
            for role in (PLATFORM, CONNECT):
                self._ensure(role, base_url.rstrip("/"), existing)
        except gateway.GatewayError as exc:
            raise CommandError(f"Stripe refused or is unreachable: {exc}") from exc
        if self.secrets_lost:
            raise CommandError(
                f"No signing secret for {', '.join(self.secrets_lost)}: roll it in the dashboard."
            )

    def _ensure(self, role: str, base_url: str, existing: list[dict]) -> None:
        url_name, secret_setting = ENDPOINTS[role]
        url = base_url + reverse(url_name)
        # Ours: marked with this install and role, or (made by hand) at our URL.
        metadata = {"marketplace_endpoint": role, "install": keys.install_prefix()}
        ours = [
            endpoint
            for endpoint in existing
            if endpoint.get("metadata") == metadata or endpoint.get("url") == url
        ]
        current = [e for e in ours if e.get("api_version") == gateway.PINNED_API_VERSION]
        events, description = event_types(role), f"Marketplace {role} events"
        if current:
            endpoint = gateway.webhook_endpoint_update(
                endpoint=current[0]["id"],
                url=url,
                enabled_events=events,
                description=description,
                metadata=metadata,
                idempotency_key=_key(role),
            )
            self.stdout.write(f"{role}: updated {endpoint['id']} ({url}); its secret is unchanged.")
        else:
            endpoint = self._create(role, url, events, description, metadata)
            if endpoint.get("secret"):
                self.stdout.write(f"{role}: created {endpoint['id']} ({url}). Set:")
                self.stdout.write(f"{secret_setting}={endpoint['secret']}")
            else:
                self.secrets_lost.append(secret_setting)
                self.stderr.write(
                    f"{role}: created {endpoint['id']} ({url}), but Stripe's answer with its "
                    f"signing secret was lost. In the dashboard (Developers, Webhooks, "
                    f"{endpoint['id']}) roll its secret and set {secret_setting} to it, or "
                    "delete the endpoint and run stripe_setup again."
                )
        for stale in ours:
            if stale["id"] != endpoint["id"]:
                self.stdout.write(
                    f"{role}: {stale['id']} ({stale.get('url')}, API version "
                    f"{stale.get('api_version')}) still receives events: delete it once "
                    f"{secret_setting} holds the new secret."
                )

    def _create(
        self, role: str, url: str, events: list[str], description: str, metadata: dict
    ) -> dict:
        """A new endpoint, with its secret if at all possible: one that came back
        without it (found after a 500) is deleted and made once more."""

        def create() -> dict:
            return gateway.webhook_endpoint_create(
                url=url,
                enabled_events=events,
                connect=role == CONNECT,
                description=description,
                metadata=metadata,
                idempotency_key=_key(role),
            )

        endpoint = create()
        if endpoint.get("secret"):
            return endpoint
        self.stdout.write(f"{role}: {endpoint['id']} was created but its secret was lost.")
        try:
            gateway.webhook_endpoint_delete(endpoint=endpoint["id"])
        except gateway.GatewayError as exc:
            self.stderr.write(f"{role}: could not delete {endpoint['id']}: {exc}")
            return endpoint
        self.stdout.write(f"{role}: deleted {endpoint['id']}; creating it again.")
        return create()


def _key(role: str) -> str:
    """A random key: a second run must not replay the first's answer (the endpoint
    may have been deleted since); the gateway's `find` guards a retried create."""
    return f"stripe-setup-{role}-{uuid.uuid4().hex}"
