import pytest
from django.db import IntegrityError, transaction

from accounts.models import User, UserProfile
from accounts.services import profile_create, user_signup
from tests.factories import BuyerFactory, ContractorFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("factory", "stripe_id"),
    [(BuyerFactory, "cus_123"), (ContractorFactory, "acct_123"), (BuyerFactory, "")],
)
def test_stripe_id_with_the_role_prefix_is_accepted(factory, stripe_id):
    profile = factory().profile
    profile.stripe_id = stripe_id
    profile.save()
    profile.refresh_from_db()
    assert profile.stripe_id == stripe_id


@pytest.mark.parametrize(
    ("factory", "stripe_id"),
    [
        (BuyerFactory, "acct_123"),
        (ContractorFactory, "cus_123"),
        (BuyerFactory, "pi_123"),
        (ContractorFactory, "123"),
    ],
)
def test_stripe_id_with_wrong_prefix_is_refused_by_the_database(factory, stripe_id):
    profile = factory().profile
    profile.stripe_id = stripe_id
    with pytest.raises(IntegrityError), transaction.atomic():
        profile.save()


def test_stripe_id_is_unique_when_set():
    first = BuyerFactory().profile
    first.stripe_id = "cus_same"
    first.save()
    other = BuyerFactory().profile
    other.stripe_id = "cus_same"
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()


def test_email_unique_ignoring_case():
    User.objects.create_user(email="a@example.com", password="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="A@EXAMPLE.COM")


def test_profile_create_refuses_unknown_role():
    user = User.objects.create_user(email="a@example.com", password="x")
    with pytest.raises(ValueError, match="Unknown role"):
        profile_create(user=user, role="admin")


def test_user_signup_is_all_or_nothing():
    with pytest.raises(ValueError, match="Unknown role"):
        user_signup(email="a@example.com", password="x", role="nobody")
    assert not User.objects.exists()
    assert not UserProfile.objects.exists()
