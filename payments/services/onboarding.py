"""Our own Connect onboarding (the `custom` path): what Stripe still asks for, and
sending exactly that.

The form is built from the account's own `requirements.currently_due`, as Stripe
reports it (through the gateway, into the profile); after a submission the account
Stripe answers with is applied to the profile at once, so the page shows what is
still missing without waiting for the `account.updated` webhook.
"""

import uuid
from dataclasses import dataclass, field
from typing import BinaryIO

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import UserProfile
from payments import gateway

from .connect import account_sync, contractor_account_ensure, profile_apply_account

# How often the onboarding page may re-read the account from Stripe (per contractor):
# between two reads the profile, which webhooks keep current, is the answer.
REQUIREMENTS_SYNC_SECONDS = 30


@dataclass
class CustomDetails:
    """What the form collected, shaped as Stripe's account update takes it; empty
    parts are not sent."""

    business_type: str = ""
    individual: dict = field(default_factory=dict)
    company: dict = field(default_factory=dict)
    business_profile: dict = field(default_factory=dict)
    external_account: dict = field(default_factory=dict)
    accept_tos: bool = False
    # verification field ("document", "additional_document") → (file, its name)
    documents: dict[str, tuple[BinaryIO, str]] = field(default_factory=dict)


def requirements_due(*, user_id: int) -> list[str]:
    """The account's `currently_due` codes, creating the account first if needed and
    re-reading it from Stripe at most every REQUIREMENTS_SYNC_SECONDS."""
    contractor_account_ensure(user_id=user_id)
    if cache.add(f"onboarding-sync:{user_id}", 1, REQUIREMENTS_SYNC_SECONDS):
        profile = account_sync(user_id=user_id)
    else:
        profile = UserProfile.objects.get(user_id=user_id)
    return list(profile.requirements.get("currently_due") or [])


def custom_details_submit(*, user_id: int, details: CustomDetails, ip: str) -> UserProfile:
    """Send the details (documents through Stripe's Files API, as the connected
    account's files, purpose identity_document) and the terms accepted now from
    `ip`; returns the profile with the requirements Stripe still has."""
    account = contractor_account_ensure(user_id=user_id)
    submission = uuid.uuid4()
    individual = dict(details.individual)
    verification = {
        name: {
            "front": gateway.file_upload(
                file=upload,
                filename=filename,
                account=account,
                idempotency_key=f"{submission}-{name}",
            )["id"]
        }
        for name, (upload, filename) in details.documents.items()
    }
    if verification:
        individual["verification"] = verification
    accepted_at = timezone.now() if details.accept_tos else None
    updated = gateway.account_update_custom(
        account=account,
        business_type=details.business_type,
        individual=individual or None,  # type: ignore[arg-type]
        company=details.company or None,  # type: ignore[arg-type]
        business_profile=details.business_profile or None,  # type: ignore[arg-type]
        external_account=details.external_account or None,  # type: ignore[arg-type]
        tos_date=int(accepted_at.timestamp()) if accepted_at else None,
        tos_ip=ip,
        idempotency_key=f"{submission}-account",
    )
    if accepted_at is not None:
        _tos_record(user_id, accepted_at, ip)
    # Stripe's answer is the freshest read: the page shows it without reading again.
    cache.set(f"onboarding-sync:{user_id}", 1, REQUIREMENTS_SYNC_SECONDS)
    return profile_apply_account(updated) or UserProfile.objects.get(user_id=user_id)


def _tos_record(user_id: int, accepted_at, ip: str) -> None:
    with transaction.atomic():
        profile = UserProfile.objects.select_for_update().get(user_id=user_id)
        profile.tos_accepted_at = accepted_at
        profile.tos_ip = ip
        profile.save(update_fields=["tos_accepted_at", "tos_ip", "updated_at"])
