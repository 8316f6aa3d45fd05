"""after_commit: a side effect that fails after the commit is logged, never raised."""

import pytest
from django.db import transaction

from core.commit import after_commit

pytestmark = pytest.mark.django_db(transaction=True)


def broker_down(order_id):
    raise ConnectionError(f"could not publish the email for order {order_id}")


def test_a_failing_side_effect_is_logged_and_the_caller_goes_on(caplog):
    ran = []
    with transaction.atomic():
        after_commit(broker_down, 7)
        after_commit(ran.append, "next one")

    assert ran == ["next one"]  # the failure stopped nothing after it
    assert "broker_down" in caplog.text  # logged under the function's own name
    assert "could not publish the email for order 7" in caplog.text
