"""Fixtures for sellers' listings: onboarded and not-yet-onboarded contractors, photos."""

import io
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.factories import ContractorFactory

_accounts = itertools.count(1)


@pytest.fixture(autouse=True)
def _cheap_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def onboarded_contractor(**fields):
    """A contractor whose connected account can take charges: their products sell."""
    return ContractorFactory(
        profile__charges_enabled=True,
        profile__stripe_id=f"acct_listing{next(_accounts)}",
        **fields,
    )


@pytest.fixture
def seller(db):
    return onboarded_contractor(profile__display_name="Alice's Workshop")


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


def jpeg_with_exif(size=(64, 32), orientation=None) -> bytes:
    """A JPEG carrying EXIF a seller would not want published (camera, GPS position)."""
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0110] = "Model 7"  # Model
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS: latitude
    if orientation is not None:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def upload(content: bytes, name: str = "photo.jpg", kind: str = "image/jpeg"):
    return SimpleUploadedFile(name, content, kind)
