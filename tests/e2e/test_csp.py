"""Pages beyond the checkout work under the Content-Security-Policy (the `page` fixture
fails a test on any violation the browser reports)."""

import pytest

from tests.factories import PASSWORD, StaffFactory

pytestmark = pytest.mark.e2e


def test_admin_and_api_docs_work_under_the_policy(page, shop):
    staff = StaffFactory(is_superuser=True)
    page.goto(f"{shop}/admin/login/")
    page.locator("#id_username").fill(staff.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{shop}/admin/")

    page.goto(f"{shop}/admin/shop/order/")
    assert page.locator("#changelist").is_visible()
    page.goto(f"{shop}/admin/shop/product/add/")
    page.locator("#id_title").fill("Stoneware mug")
    page.locator("#id_title").press("Tab")
    # Admin's own script fills the slug in: it ran under the policy.
    assert page.locator("#id_slug").input_value() == "stoneware-mug"

    page.goto(f"{shop}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Marketplace shop API" in page.locator(".swagger-ui .info .title").inner_text()
