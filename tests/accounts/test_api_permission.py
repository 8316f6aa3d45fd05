import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIRequestFactory

from accounts.api_permissions import EmailVerified
from tests.factories import BuyerFactory

pytestmark = pytest.mark.django_db


def test_writes_need_a_proven_address_reads_do_not():
    factory = APIRequestFactory()
    for user, allowed in [
        (BuyerFactory(), True),
        (BuyerFactory(email_verified_at=None), False),
        (AnonymousUser(), False),
    ]:
        post, get = factory.post("/api/orders/"), factory.get("/api/orders/")
        post.user = get.user = user
        assert EmailVerified().has_permission(post, None) is allowed
        assert EmailVerified().has_permission(get, None) is True
