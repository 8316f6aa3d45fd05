"""The staff step of a dispute, in Chromium: a buyer's bank disputes a fulfilled order
(the sandbox's dispute test card), and staff answer it on the dispute's admin page —
the deadline and the order's facts are there, they attach a receipt and submit —
until the dispute is won and the contractor has their money back.

Unlike test_journey.py this runs on the integration tests' stack (Django's live
server, the sandbox, a real Celery worker: tests/live_stack.py), so it can set up
the disputed order directly and check the books; the browser does the staff's part.
"""

from pathlib import Path

import pytest

from accounts.models import UserProfile
from payments.models import Dispute, DisputeAction
from tests.factories import PASSWORD, StaffFactory
from tests.integration.flows import connected_balance, onboarded_contractor
from tests.integration.test_disputes import disputed_order, until

from .conftest import CHROMIUM_ARGS

pytestmark = [pytest.mark.sandbox, pytest.mark.celery_worker]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dispute-admin"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def page(chromium, live_stack, playwright_session):
    """A Chromium page (Playwright is the session's: tests/conftest.py); a failed test
    leaves a screenshot."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser = playwright_session.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        page.screenshot(path=str(ARTIFACTS / "last.png"), full_page=True)
        browser.close()


def test_staff_answer_a_dispute_in_admin(page, live_stack, live_server, settings, tmp_path):
    settings.PLATFORM_FEE_BPS = 1000
    settings.PLATFORM_FEE_FIXED = 30
    seller = onboarded_contractor(live_stack, "bowls@example.com")
    account = UserProfile.objects.get(user=seller).stripe_id
    payment = disputed_order(live_stack, seller, 10_000)
    dispute = until(lambda: Dispute.objects.filter(funds_withdrawn=True).first(), "withdrawal")
    until(lambda: sum(connected_balance(account)) == 0, "the disputed amount taken back")
    staff = StaffFactory(email="disputes@example.com")

    # Staff log in and open the dispute from the list.
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/payments/dispute/")
    page.get_by_role("link", name=dispute.stripe_dispute_id).click()
    assert page.get_by_test_id("dispute-status").inner_text() == "Needs response"
    assert (
        dispute.due_by.strftime("%Y-%m-%d") in page.get_by_test_id("dispute-deadline").inner_text()
    )
    # The order's facts are there as evidence already.
    assert page.locator("#id_customer_email_address").input_value() == payment.order.buyer.email
    assert payment.order.items.get().title in page.locator("#id_product_description").input_value()
    page.screenshot(path=str(ARTIFACTS / "01-dispute-page.png"), full_page=True)

    # They attach the receipt, add Stripe's winning test evidence, and submit.
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(PDF)
    page.select_option("#id_attach_to", "receipt")
    page.set_input_files("#id_attachment", str(receipt))
    page.fill("#id_uncategorized_text", "winning_evidence")
    page.get_by_role("button", name="Submit evidence").click()
    page.wait_for_selector("text=Evidence submitted: on its way to Stripe.")

    until(lambda: Dispute.objects.get(pk=dispute.pk).status == "won", "the dispute won")
    until(
        lambda: DisputeAction.objects.filter(kind="return_funds", status="succeeded").exists(),
        "the money given back",
    )
    page.reload()
    assert page.get_by_test_id("dispute-status").inner_text() == "Won"
    assert "Submit evidence: Done" in page.get_by_test_id("dispute-action").all_inner_texts()
    page.screenshot(path=str(ARTIFACTS / "02-dispute-won.png"), full_page=True)

    dispute.refresh_from_db()
    assert dispute.evidence["receipt"].startswith("file_")
    at_stripe = live_stack.client().v1.disputes.retrieve(dispute.stripe_dispute_id)
    assert at_stripe.evidence.receipt == dispute.evidence["receipt"]
    assert sum(connected_balance(account)) == 8_970
