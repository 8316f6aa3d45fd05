"""Disputes: the state machine, idempotent and never backwards; recovery from the
contractor per policy, to the cent; the give-back of a won dispute; staff's answers."""

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.statemachine import is_allowed
from notifications.models import Notification
from payments import gateway
from payments.models import ContractorDebit, Dispute, DisputeAction, Payment
from payments.services import dispute_actions, dispute_receipt, disputes, stranded
from payments.services.dispute_actions import DisputeError
from payments.services.transfers import transfer_execute
from payments.services.waits import NotYet
from shop.models import Order
from tests.factories import (
    ContractorFactory,
    OrderFactory,
    OrderItemFactory,
    PaymentFactory,
    RefundFactory,
    StaffFactory,
)
from tests.payments.webhook_helpers import event, post_event

pytestmark = pytest.mark.django_db
DAY = 86_400


@pytest.fixture
def payment():
    """A captured destination charge of 100.00: fee 10.30, the contractor got 89.70."""
    seller = ContractorFactory(profile__stripe_id="acct_disputed")
    order = OrderFactory(seller=seller, amount=10_000, fee_amount=1_030, status="captured")
    OrderItemFactory(order=order, title="Walnut bowl", unit_amount=10_000)
    return PaymentFactory(
        order=order,
        status=Payment.Status.CAPTURED,
        amount_authorized=10_000,
        amount_captured=10_000,
        stripe_charge_id="ch_disputed",
        stripe_transfer_id="tr_disputed",
        destination_account="acct_disputed",
    )


def snapshot(status="needs_response", *, withdrawn=False, reinstated=False, fee_back=True, **kw):
    txns = []
    if withdrawn:
        txns.append({"id": "txn_w", "amount": -10_000, "fee": 1_500, "currency": "usd"})
    if reinstated:
        txns.append(
            {"id": "txn_r", "amount": 10_000, "fee": -1_500 if fee_back else 0, "currency": "usd"}
        )
    return {
        "id": "dp_1",
        "object": "dispute",
        "amount": 10_000,
        "currency": "usd",
        "charge": "ch_disputed",
        "payment_intent": "pi_x",
        "reason": "fraudulent",
        "status": status,
        "evidence_details": {"due_by": 1_900_000_000, "has_evidence": False},
        "balance_transactions": txns,
        **kw,
    }


def apply(obj, created):
    return disputes.dispute_apply(obj, event_created=created)


# --- The state machine --------------------------------------------------------------


def test_final_statuses_never_move_and_chargebacks_never_become_inquiries():
    table = Dispute.TRANSITIONS
    assert not table[Dispute.Status.WON]
    assert not table[Dispute.Status.LOST]
    assert not is_allowed(table, "under_review", "needs_response")
    assert not is_allowed(table, "needs_response", "warning_needs_response")
    assert is_allowed(table, "warning_needs_response", "needs_response")
    assert is_allowed(table, "needs_response", "under_review")
    assert is_allowed(table, "under_review", "won")
    assert set(table) == set(Dispute.Status.values)


def test_opened_dispute_is_recorded_flagged_and_told(payment, django_capture_on_commit_callbacks):
    StaffFactory()
    with django_capture_on_commit_callbacks(execute=True):
        dispute = apply(snapshot(), 100)
    assert (dispute.status, dispute.amount, dispute.reason) == (
        "needs_response",
        10_000,
        "fraudulent",
    )
    assert dispute.payment == payment
    assert dispute.order == payment.order
    assert dispute.due_by.timestamp() == 1_900_000_000
    payment.order.refresh_from_db()
    assert payment.order.flagged
    assert "fraudulent" in payment.order.flag_reason
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == ["dispute_buyer", "dispute_seller", "dispute_staff"]


def test_repeated_and_older_events_change_nothing(payment):
    apply(snapshot(), 100)
    apply(snapshot("lost", withdrawn=True), 300)
    # An older snapshot (and a repeat of the newest) after the newest: nothing moves back.
    apply(snapshot("needs_response", amount=9_999, reason="general"), 200)
    apply(snapshot("lost", withdrawn=True), 300)
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.amount, dispute.reason) == ("lost", 10_000, "fraudulent")
    assert dispute.funds_withdrawn
    assert dispute.last_event_created == 300
    assert ContractorDebit.objects.count() == 1


def test_stripes_word_on_refunding_the_charge_is_kept(payment):
    inquiry = apply(snapshot("warning_needs_response", is_charge_refundable=True), 100)
    assert inquiry.is_charge_refundable
    escalated = apply(snapshot(withdrawn=True, is_charge_refundable=False), 200)
    assert not escalated.is_charge_refundable


def test_unknown_charge_is_ignored():
    assert apply(snapshot(charge="ch_other", payment_intent=""), 1) is None
    assert not Dispute.objects.exists()


# --- Recovery ---------------------------------------------------------------------


def test_withdrawn_funds_reverse_the_contractors_transfer_once(payment, settings):
    settings.DISPUTE_RECOVERY = "reverse_transfer"
    settings.DISPUTE_FEE_POLICY = "platform"
    apply(snapshot(), 100)
    apply(snapshot(withdrawn=True), 101)
    apply(snapshot(withdrawn=True), 101)  # a duplicate delivery
    dispute = Dispute.objects.get()
    assert (dispute.fee_amount, dispute.fee_currency) == (1_500, "usd")
    debit = ContractorDebit.objects.get()
    # Never more than the contractor was paid: 100.00 − the 10.30 fee.
    assert (debit.amount, debit.method, debit.order_id) == (
        8_970,
        "transfer_reversal",
        payment.order_id,
    )
    assert list(dispute.debits.all()) == [debit]
    assert dispute.recovery_decided
    assert dispute.recovery_shortfall == 0


def test_contractor_pays_the_fee_when_the_policy_says_so(payment, settings):
    settings.DISPUTE_FEE_POLICY = "contractor"
    apply(snapshot(withdrawn=True), 100)
    debits = sorted(ContractorDebit.objects.values_list("method", "amount"))
    assert debits == [("account_debit", 1_500), ("transfer_reversal", 8_970)]


def test_a_recovery_stripe_refuses_counts_as_shortfall_and_flags_the_order(payment, monkeypatch):
    from payments.services.debits import debit_execute

    def refused(**kwargs):
        raise gateway.GatewayRejected("No such transfer", code="resource_missing", status=400)

    monkeypatch.setattr(gateway, "transfer_reversal_create", refused)
    dispute = apply(snapshot(withdrawn=True), 100)
    assert dispute.recovery_shortfall == 0
    debit = debit_execute(debit_id=ContractorDebit.objects.get().pk)
    assert debit.status == "failed"
    dispute.refresh_from_db()
    assert dispute.recovery_shortfall == 8_970
    payment.order.refresh_from_db()
    assert "refused to take back $89.70" in payment.order.flag_reason


def test_no_recovery_when_the_platform_bears_it(payment, settings):
    settings.DISPUTE_RECOVERY = "none"
    apply(snapshot(withdrawn=True), 100)
    assert not ContractorDebit.objects.exists()
    assert Dispute.objects.get().recovery_decided


def test_only_what_is_left_of_the_transfer_is_reversed_and_the_rest_reported(payment):
    RefundFactory(payment=payment, amount=3_000, status="succeeded", reverse_transfer=True)
    apply(snapshot(withdrawn=True), 100)
    assert ContractorDebit.objects.get().amount == 8_970 - 3_000
    dispute = Dispute.objects.get()
    assert dispute.recovery_shortfall == 3_000
    payment.order.refresh_from_db()
    assert "could not be recovered" in payment.order.flag_reason


def test_reinstated_before_withdrawn_takes_nothing(payment):
    apply(snapshot("won", withdrawn=True, reinstated=True), 100)
    assert not ContractorDebit.objects.exists()
    assert not DisputeAction.objects.exists()


def test_a_shared_charge_is_recovered_in_shares_that_add_up():
    assert disputes.shares(10_001, [Payment(amount=c, amount_captured=c) for c in (1, 1, 1)]) == [
        3_334,
        3_333,
        3_334,
    ]
    assert sum(disputes.shares(999, [Payment(amount=c, amount_captured=c) for c in (7, 5)])) == 999


def test_an_order_dropped_before_the_capture_or_refunded_takes_no_share():
    kept = Payment(amount=6_000, amount_captured=6_000, status="captured")
    dropped = Payment(amount=4_000, amount_captured=0, status="canceled")
    assert disputes.shares(6_000, [kept, dropped]) == [6_000, 0]
    # Half of the first order refunded: the charge still holds 30.00 of it and 40.00.
    half = Payment(amount=6_000, amount_captured=6_000, amount_refunded=3_000)
    other = Payment(amount=4_000, amount_captured=4_000)
    assert disputes.shares(7_000, [half, other]) == [3_000, 4_000]
    # Our record of the capture not there yet: shared by amount, never by a canceled one.
    waiting = [Payment(amount=6_000), Payment(amount=4_000, status="canceled")]
    assert disputes.shares(5_000, waiting) == [5_000, 0]


# --- Won: the money goes back -----------------------------------------------------


@pytest.fixture
def fake_return(monkeypatch):
    calls = []

    def dispute_funds_return(**kwargs):
        calls.append(kwargs)
        return {"id": "tr_back"}

    monkeypatch.setattr(gateway, "dispute_funds_return", dispute_funds_return)
    return calls


def test_won_dispute_gives_back_what_was_taken(payment, fake_return):
    apply(snapshot(withdrawn=True), 100)
    apply(snapshot("won", withdrawn=True, reinstated=True), 200)
    apply(snapshot("won", withdrawn=True, reinstated=True), 200)
    action = DisputeAction.objects.get()
    assert (action.kind, action.payment) == ("return_funds", payment)

    with pytest.raises(NotYet):  # the reversal is not done yet
        dispute_actions.dispute_action_execute(action_id=action.pk)
    ContractorDebit.objects.update(status="succeeded", stripe_object_id="trr_1")
    action = dispute_actions.dispute_action_execute(action_id=action.pk)
    assert (action.status, action.amount, action.stripe_object_id) == (
        "succeeded",
        8_970,
        "tr_back",
    )
    assert fake_return == [
        {
            "amount": 8_970,
            "currency": "usd",
            "destination": "acct_disputed",
            "dispute_id": "dp_1",
            "order_id": payment.order_id,
            "action_id": action.pk,
            "idempotency_key": f"dispute-action-{action.pk}",
        }
    ]
    dispute_actions.dispute_action_execute(action_id=action.pk)  # done: not sent again
    assert len(fake_return) == 1


def test_fee_debit_is_given_back_only_if_stripe_returned_the_fee(payment, settings, fake_return):
    settings.DISPUTE_FEE_POLICY = "contractor"
    apply(snapshot(withdrawn=True), 100)
    ContractorDebit.objects.update(status="succeeded")
    apply(snapshot("won", withdrawn=True, reinstated=True, fee_back=False), 200)
    action = dispute_actions.dispute_action_execute(action_id=DisputeAction.objects.get().pk)
    assert action.amount == 8_970


# --- Staff's answers ----------------------------------------------------------------


@pytest.fixture
def fake_update(monkeypatch):
    calls = []

    def dispute_update(**kwargs):
        calls.append(kwargs)
        return {"id": kwargs["dispute"], "status": "under_review"}

    monkeypatch.setattr(gateway, "dispute_update", dispute_update)
    monkeypatch.setattr(
        gateway, "dispute_close", lambda **kw: calls.append(kw) or {"id": kw["dispute"]}
    )
    return calls


def test_prefilled_evidence_holds_the_orders_facts(payment):
    dispute = apply(snapshot(), 100)
    facts = dispute_actions.evidence_prefill(dispute)
    assert "Walnut bowl" in facts["product_description"]
    assert facts["customer_email_address"] == payment.order.buyer.email
    assert "ch_disputed" in facts["uncategorized_text"]
    assert "shipping_address" not in facts  # a service: nothing was shipped


def test_prefilled_evidence_says_when_the_order_was_fulfilled(payment):
    from datetime import datetime

    fulfilled = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    Order.objects.filter(pk=payment.order_id).update(fulfilled_at=fulfilled)
    dispute = apply(snapshot(), 100)
    assert dispute_actions.evidence_prefill(dispute)["service_date"] == "2026-11-20"
    Order.objects.filter(pk=payment.order_id).update(requires_shipping=True)
    facts = dispute_actions.evidence_prefill(dispute)
    assert (facts["shipping_date"], "service_date" in facts) == ("2026-11-20", False)


def test_prefilled_evidence_holds_where_it_was_shipped_and_the_tracking(payment):
    Order.objects.filter(pk=payment.order_id).update(
        shipping_name="Eve Example",
        shipping_line1="1 Infinite Loop",
        shipping_city="Cupertino",
        shipping_postal_code="95014",
        shipping_state="CA",
        shipping_country="US",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
    )
    facts = dispute_actions.evidence_prefill(apply(snapshot(), 100))
    assert facts["shipping_address"] == "Eve Example\n1 Infinite Loop\n95014 Cupertino\nCA\nUS"
    assert facts["shipping_carrier"] == "UPS"
    assert facts["shipping_tracking_number"] == "1Z999AA10123456784"


def test_draft_then_submit_send_the_evidence(payment, fake_update):
    dispute = apply(snapshot(), 100)
    user = StaffFactory()
    draft = dispute_actions.dispute_answer(
        dispute_id=dispute.pk,
        evidence={"product_description": " A bowl "},
        submit=False,
        user_id=user.pk,
    )
    dispute_actions.dispute_action_execute(action_id=draft.pk)
    sent = dispute_actions.dispute_answer(
        dispute_id=dispute.pk,
        evidence={"product_description": "A bowl", "receipt": "file_1"},
        submit=True,
        user_id=user.pk,
    )
    # A second answer while the submission is on its way is refused.
    with pytest.raises(DisputeError):
        dispute_actions.dispute_accept(dispute_id=dispute.pk, user_id=user.pk)
    dispute_actions.dispute_action_execute(action_id=sent.pk)
    assert [c["submit"] for c in fake_update] == [False, True]
    assert fake_update[1]["evidence"] == {"product_description": "A bowl", "receipt": "file_1"}
    assert fake_update[1]["idempotency_key"] == f"dispute-action-{sent.pk}"
    dispute.refresh_from_db()
    assert dispute.submitted_at is not None
    assert dispute.evidence["product_description"] == "A bowl"
    # Stripe's answer is recorded before its webhook: no second submission is offered.
    assert dispute.status == "under_review"
    with pytest.raises(DisputeError, match="under review"):
        dispute_actions.dispute_answer(
            dispute_id=dispute.pk, evidence={}, submit=True, user_id=user.pk
        )


def test_bad_evidence_and_closed_disputes_are_refused(payment):
    dispute = apply(snapshot(), 100)
    with pytest.raises(DisputeError, match="Unknown evidence"):
        dispute_actions.dispute_answer(
            dispute_id=dispute.pk, evidence={"bogus": "x"}, submit=True, user_id=None
        )
    with pytest.raises(DisputeError, match="uploaded file"):
        dispute_actions.evidence_clean({"receipt": "not-a-file"})
    apply(snapshot("lost"), 200)
    with pytest.raises(DisputeError, match="too late"):
        dispute_actions.dispute_accept(dispute_id=dispute.pk, user_id=None)


def test_refused_action_is_failed_and_staff_hear(
    payment, monkeypatch, django_capture_on_commit_callbacks
):
    StaffFactory()
    dispute = apply(snapshot(), 100)

    def refuse(**kwargs):
        raise gateway.GatewayRejected("This dispute is already closed", code="resource_missing")

    monkeypatch.setattr(gateway, "dispute_close", refuse)
    action = dispute_actions.dispute_accept(dispute_id=dispute.pk, user_id=None)
    with django_capture_on_commit_callbacks(execute=True):
        action = dispute_actions.dispute_action_execute(action_id=action.pk)
    assert action.status == "failed"
    assert "already closed" in action.failure_message
    assert Notification.objects.filter(kind="dispute_staff").exists()


# --- Webhooks and admin -------------------------------------------------------------


def test_webhooks_drive_the_dispute(
    client, settings, payment, celery_eager, django_capture_on_commit_callbacks
):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_d"
    url = reverse("payments:webhook_platform")
    for kind, obj in [
        ("charge.dispute.created", snapshot()),
        ("charge.dispute.funds_withdrawn", snapshot(withdrawn=True)),
        ("charge.dispute.closed", snapshot("lost", withdrawn=True)),
    ]:
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(client, url, event(kind, obj), "whsec_d").status_code == 200
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.funds_withdrawn) == ("lost", True)
    assert ContractorDebit.objects.get().amount == 8_970


def test_connect_deliveries_of_disputes_are_ignored(payment):
    from payments.webhooks.registry import route_for

    assert route_for("charge.dispute.funds_reinstated").endpoint == "platform"


def test_admin_answer_needs_change_permission(client, payment, fake_update):
    from django.contrib.auth.models import Permission

    dispute = apply(snapshot(), 100)
    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_dispute"))
    client.force_login(viewer)
    url = reverse("admin:payments_dispute_change", args=[dispute.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Walnut bowl" not in page.content
    assert "needs the “Can change dispute” permission" in page.content.decode()
    assert client.post(url, {"submit": "1"}).status_code == 403
    assert not DisputeAction.objects.exists()

    client.force_login(StaffFactory())
    page = client.get(url)
    assert b"Walnut bowl" in page.content
    assert b"Submit evidence" in page.content
    response = client.post(url, {"accept": "1", "product_description": "x"})
    assert response.status_code == 302
    assert DisputeAction.objects.get().kind == "accept"


def test_admin_attaches_an_evidence_file_and_submits(client, payment, fake_update, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploads = []

    def dispute_evidence_upload(**kwargs):
        uploads.append((kwargs["filename"], kwargs["file"].read(), kwargs["idempotency_key"]))
        return {"id": "file_receipt"}

    monkeypatch.setattr(gateway, "dispute_evidence_upload", dispute_evidence_upload)
    dispute = apply(snapshot(), 100)
    client.force_login(StaffFactory())
    url = reverse("admin:payments_dispute_change", args=[dispute.pk])
    pdf = b"%PDF-1.4 receipt"
    response = client.post(
        url,
        {
            "attach_to": "receipt",
            "attachment": SimpleUploadedFile("receipt.pdf", pdf, "application/pdf"),
            "uncategorized_text": "Delivered on time.",
            "submit": "Submit evidence",
        },
    )
    assert response.status_code == 302
    name, content, _key = uploads[0]
    # Named by its content too, so a look-up after a 500 cannot take another file.
    assert (name.endswith("-receipt.pdf"), content) == (True, pdf)
    action = DisputeAction.objects.get()
    assert action.kind == "submit"
    assert action.evidence == {
        "receipt": "file_receipt",
        "uncategorized_text": "Delivered on time.",
    }

    # Not a PDF, PNG or JPEG: refused with the reason on the page, nothing sent.
    page = client.post(
        url,
        {
            "attach_to": "receipt",
            "attachment": SimpleUploadedFile("x.exe", b"MZ..", "application/octet-stream"),
            "save_draft": "1",
        },
    )
    assert page.status_code == 200
    assert b"PDF, PNG or JPEG" in page.content
    assert len(uploads) == 1


def test_admin_attaches_the_orders_receipt_drawn_as_a_png(
    client, payment, fake_update, monkeypatch
):
    import io

    from PIL import Image

    uploads = []

    def dispute_evidence_upload(**kwargs):
        uploads.append((kwargs["filename"], kwargs["file"].read()))
        return {"id": "file_drawn_receipt"}

    monkeypatch.setattr(gateway, "dispute_evidence_upload", dispute_evidence_upload)
    dispute = apply(snapshot(), 100)
    client.force_login(StaffFactory())
    url = reverse("admin:payments_dispute_change", args=[dispute.pk])
    page = client.get(url)
    assert page.context["form"]["attach_receipt"].value() is True  # no receipt yet

    response = client.post(url, {"attach_receipt": "on", "save_draft": "1"})

    assert response.status_code == 302
    [(name, png)] = uploads
    assert name.endswith("-receipt-ch_disputed.png")
    assert Image.open(io.BytesIO(png)).format == "PNG"
    lines = dispute_receipt.receipt_lines(dispute)
    assert f"Order {payment.order.public_id} from {payment.order.seller.profile.name}" in lines
    assert "    1 × Walnut bowl    $100.00".replace("×", "x") in lines
    assert "Total paid: $100.00" in lines
    assert DisputeAction.objects.get().evidence["receipt"] == "file_drawn_receipt"


def test_reconcile_reports_unknown_and_different_disputes(payment, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from payments.services.reconcile_disputes import dispute_mismatches

    apply(snapshot(), 100)
    stripe_side = [
        {**snapshot("lost"), "id": "dp_1"},
        {**snapshot(), "id": "dp_unknown", "amount": 500},
    ]
    monkeypatch.setattr(gateway, "dispute_list", lambda **kw: stripe_side)
    found = {
        (m.stripe_id, m.field, m.our_value, m.stripe_value)
        for m in dispute_mismatches(timezone.now() - timedelta(days=1))
    }
    assert found == {
        ("dp_1", "status", "needs_response", "lost"),
        ("dp_unknown", "exists", "no", "500 usd needs_response"),
    }


def test_each_person_hears_once_per_step(payment, django_capture_on_commit_callbacks):
    StaffFactory()
    buyer, seller = payment.order.buyer, payment.order.seller
    for status, created in [("needs_response", 100), ("lost", 200), ("lost", 200)]:
        with django_capture_on_commit_callbacks(execute=True):
            apply(snapshot(status, withdrawn=True), created)

    def steps(person):
        return sorted(k.split(":")[2] for k in person.notifications.values_list("key", flat=True))

    assert steps(buyer) == ["lost", "opened"]
    assert steps(seller) == ["funds_withdrawn", "lost", "opened"]
    assert "in your favour" in buyer.notifications.get(key__contains=":lost:").body_text


def test_a_dispute_before_our_capture_waits_for_it(payment):
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.AUTHORIZED)
    with pytest.raises(NotYet):
        apply(snapshot(withdrawn=True), 100)
    assert not Dispute.objects.exists()  # all or nothing: the event is retried whole


def test_a_misspelt_policy_stops_start_up(settings):
    from payments.checks import dispute_policy_check

    assert dispute_policy_check() == []
    settings.DISPUTE_FEE_POLICY = "contractors"
    [error] = dispute_policy_check()
    assert error.id == "payments.E102"
    assert "contractors" in error.msg


def shared_checkout():
    """A checkout's platform charge of 100.00 paying two orders (60.00 and 40.00, fee
    10 % each): both fulfilled, each contractor's Transfer sent."""
    from payments.models import Transfer

    payments = []
    for n, amount in enumerate((6_000, 4_000)):
        seller = ContractorFactory(profile__stripe_id=f"acct_shared_{n}")
        order = OrderFactory(seller=seller, amount=amount, fee_amount=amount // 10)
        p = PaymentFactory(
            order=order,
            status=Payment.Status.CAPTURED,
            amount_authorized=amount,
            amount_captured=amount,
            stripe_payment_intent_id="pi_shared",
            stripe_charge_id="ch_disputed",
            transfer_group="checkout-x",
            destination_account=f"acct_shared_{n}",
        )
        Transfer.objects.create(
            payment=p,
            amount=amount - amount // 10,
            currency="usd",
            destination_account=p.destination_account,
            transfer_group="checkout-x",
            source_charge="ch_disputed",
            status="succeeded",
            stripe_transfer_id=f"tr_shared_{n}",
        )
        payments.append(p)
    return payments


def test_a_checkouts_charge_is_recovered_by_reversing_each_transfer(monkeypatch, fake_return):
    first, second = shared_checkout()
    apply(snapshot(withdrawn=True, payment_intent="pi_shared"), 100)
    assert not ContractorDebit.objects.exists()
    actions = DisputeAction.objects.filter(kind="reverse_transfer").order_by("payment_id")
    # Shares of 100.00 by what each captured, capped at what each contractor was paid.
    assert [(a.payment, a.amount) for a in actions] == [(first, 5_400), (second, 3_600)]

    calls = []

    def dispute_transfer_reverse(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:  # the contractor's money is still pending at first
            raise gateway.GatewayRejected("balance", code="balance_insufficient", status=400)
        return {"id": f"trr_{len(calls)}"}

    monkeypatch.setattr(gateway, "dispute_transfer_reverse", dispute_transfer_reverse)
    with pytest.raises(NotYet):
        dispute_actions.dispute_action_execute(action_id=actions[0].pk)
    for action in actions:
        dispute_actions.dispute_action_execute(action_id=action.pk)
    assert [c["idempotency_key"] for c in calls[:2]] == [
        f"dispute-action-{actions[0].pk}",
        f"dispute-action-{actions[0].pk}/after-1",
    ]
    assert [c["transfer"] for c in calls[1:]] == ["tr_shared_0", "tr_shared_1"]

    apply(snapshot("won", withdrawn=True, reinstated=True, payment_intent="pi_shared"), 200)
    for back in DisputeAction.objects.filter(kind="return_funds"):
        dispute_actions.dispute_action_execute(action_id=back.pk)
    assert sorted((c["destination"], c["amount"]) for c in fake_return) == [
        ("acct_shared_0", 5_400),
        ("acct_shared_1", 3_600),
    ]


def test_a_checkouts_evidence_holds_every_order_the_charge_paid():
    first, second = shared_checkout()
    OrderItemFactory(order=first.order, title="Walnut bowl", quantity=1)
    OrderItemFactory(order=second.order, title="Oak spoon", quantity=2)
    Order.objects.filter(pk=second.order_id).update(carrier="UPS", tracking_number="1Z999")
    dispute = apply(snapshot(payment_intent="pi_shared"), 100)
    facts = dispute_actions.evidence_prefill(dispute)
    assert "1 × Walnut bowl" in facts["product_description"]
    assert "2 × Oak spoon" in facts["product_description"]
    assert (facts["shipping_carrier"], facts["shipping_tracking_number"]) == ("UPS", "1Z999")
    for payment in (first, second):
        assert str(payment.order.public_id) in facts["uncategorized_text"]


def test_only_contractors_who_were_paid_pay_a_part_of_the_fee(settings):
    settings.DISPUTE_FEE_POLICY = "contractor"
    first, second = shared_checkout()
    Payment.objects.filter(pk=second.pk).update(status=Payment.Status.AUTHORIZED)
    apply(snapshot(withdrawn=True, payment_intent="pi_shared"), 100)
    fee_debits = ContractorDebit.objects.filter(reason__contains="dispute fee")
    assert [(d.contractor_id, d.amount) for d in fee_debits] == [(first.order.seller_id, 1_500)]


@pytest.mark.parametrize("made_before", [False, True])
def test_a_reversal_still_waiting_when_the_dispute_is_won_is_not_sent(
    monkeypatch, fake_return, made_before
):
    """The contractor's balance could not cover the reversal, then the bank gave the
    money back: nothing is taken. Unless an earlier try reached Stripe after all (its
    answer lost): then it is recorded, and given back."""
    first, _ = shared_checkout()
    apply(snapshot(withdrawn=True, payment_intent="pi_shared"), 100)
    reversal = DisputeAction.objects.get(kind="reverse_transfer", payment=first)
    sent = []
    monkeypatch.setattr(gateway, "dispute_transfer_reverse", lambda **kw: sent.append(kw))
    monkeypatch.setattr(
        gateway,
        "dispute_transfer_reversal_made",
        lambda **kw: {"id": "trr_lost_answer"} if made_before else None,
    )
    apply(snapshot("won", withdrawn=True, reinstated=True, payment_intent="pi_shared"), 200)

    done = dispute_actions.dispute_action_execute(action_id=reversal.pk)

    assert sent == []
    assert done.status == ("succeeded" if made_before else "canceled")
    back = DisputeAction.objects.get(kind="return_funds", payment=first)
    dispute_actions.dispute_action_execute(action_id=back.pk)
    back.refresh_from_db()
    assert back.status == "succeeded"
    given = [(c["destination"], c["amount"]) for c in fake_return]
    assert given == ([("acct_shared_0", 5_400)] if made_before else [])


def test_an_order_of_the_checkout_not_fulfilled_is_flagged_not_reversed():
    first, second = shared_checkout()
    Payment.objects.filter(pk=second.pk).update(status=Payment.Status.AUTHORIZED)
    apply(snapshot(withdrawn=True, payment_intent="pi_shared"), 100)
    actions = DisputeAction.objects.filter(kind="reverse_transfer")
    assert [a.payment_id for a in actions] == [first.pk]
    second.order.refresh_from_db()
    assert "not paid yet" in second.order.flag_reason


# --- An order of the checkout fulfilled while its charge is disputed --------------------


@pytest.fixture
def fake_transfer(monkeypatch):
    calls = []

    def transfer_create(**kwargs):
        calls.append(kwargs)
        return {
            "id": f"tr_late_{len(calls)}",
            "amount": kwargs["amount"],
            "destination": kwargs["destination"],
            "source_transaction": kwargs["source_transaction"],
            "metadata": {"transfer_id": str(kwargs["transfer_id"])},
        }

    monkeypatch.setattr(gateway, "transfer_create", transfer_create)
    # A disputed charge's transfer is looked up at Stripe first: none was made before.
    monkeypatch.setattr(gateway, "transfer_list", lambda **kw: [])
    return calls


def late_transfer(payment):
    """The second order is fulfilled after the dispute opened: its Transfer is asked."""
    from payments.models import Transfer

    Transfer.objects.filter(payment=payment).delete()
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CAPTURED)
    transfer = Transfer.objects.create(
        payment=payment,
        amount=payment.transfer_amount,
        currency="usd",
        destination_account=payment.destination_account,
        transfer_group="checkout-x",
        source_charge="ch_disputed",
    )
    return transfer_execute(transfer_id=transfer.pk)


def disputed_before_second_fulfils():
    first, second = shared_checkout()
    Payment.objects.filter(pk=second.pk).update(status=Payment.Status.AUTHORIZED)
    apply(snapshot(withdrawn=True, payment_intent="pi_shared"), 100)
    second.refresh_from_db()
    return first, second


def test_a_contractor_who_fulfils_during_the_dispute_is_paid_once_it_is_won(
    fake_transfer, fake_return, django_capture_on_commit_callbacks
):
    _, second = disputed_before_second_fulfils()
    transfer = late_transfer(second)
    assert transfer.status == "on_hold"
    assert fake_transfer == []  # nothing paid out of money the bank holds
    second.order.refresh_from_db()
    assert "on hold" in second.order.flag_reason

    won = snapshot("won", withdrawn=True, reinstated=True, payment_intent="pi_shared")
    with django_capture_on_commit_callbacks():  # the task's message; run it by hand
        apply(won, 200)
    transfer.refresh_from_db()
    assert (transfer.status, transfer.dispatches) == ("pending", 1)
    transfer = transfer_execute(transfer_id=transfer.pk)
    assert (transfer.status, transfer.amount, transfer.withheld) == ("succeeded", 3_600, 0)
    assert [(c["destination"], c["amount"]) for c in fake_transfer] == [("acct_shared_1", 3_600)]
    # Nothing was taken from the second contractor, so nothing is given back to them.
    assert not DisputeAction.objects.filter(kind="return_funds", payment=second).exists()


def test_a_lost_dispute_keeps_the_orders_share_back_from_its_late_transfer(fake_transfer):
    first, second = disputed_before_second_fulfils()
    transfer = late_transfer(second)
    apply(snapshot("lost", withdrawn=True, payment_intent="pi_shared", amount=5_000), 200)
    transfer = transfer_execute(transfer_id=transfer.pk)
    # 50.00 disputed of 100.00: the second order's share is 20.00 of its 36.00.
    assert (transfer.status, transfer.amount, transfer.withheld) == ("succeeded", 1_600, 2_000)
    assert [c["amount"] for c in fake_transfer] == [1_600]


def test_a_lost_dispute_that_takes_the_whole_share_sends_nothing(fake_transfer):
    _, second = disputed_before_second_fulfils()
    transfer = late_transfer(second)
    apply(snapshot("lost", withdrawn=True, payment_intent="pi_shared"), 200)
    transfer = transfer_execute(transfer_id=transfer.pk)
    # Its share of 100.00 is 40.00, more than the 36.00 it would have been paid.
    assert (transfer.status, transfer.amount, transfer.withheld) == ("withheld", 0, 3_600)
    assert fake_transfer == []
    # Nothing is left to send: it is not reported as stranded, however long it waits.
    later = timezone.now() + timedelta(days=30)
    assert not stranded.transfers_unsent(later).exists()


def test_without_recovery_a_late_transfer_is_not_held(fake_transfer, settings):
    settings.DISPUTE_RECOVERY = "none"
    _, second = disputed_before_second_fulfils()
    assert late_transfer(second).status == "succeeded"
    assert [c["amount"] for c in fake_transfer] == [3_600]


def test_a_transfer_already_being_reversed_is_sent_not_held(fake_transfer):
    """On its way when the funds were withdrawn: recovery reverses it once it is sent."""
    from payments.models import Transfer

    first, _ = shared_checkout()
    Transfer.objects.filter(payment=first).update(status="pending", stripe_transfer_id=None)
    apply(snapshot(withdrawn=True, payment_intent="pi_shared"), 100)
    assert DisputeAction.objects.filter(kind="reverse_transfer", payment=first).exists()
    transfer = transfer_execute(transfer_id=Transfer.objects.get(payment=first).pk)
    assert transfer.status == "succeeded"


def test_every_contractor_the_charge_paid_hears_of_their_own_share(
    django_capture_on_commit_callbacks,
):
    first, second = shared_checkout()
    with django_capture_on_commit_callbacks(execute=True):
        apply(snapshot(payment_intent="pi_shared"), 100)
    told = {n.recipient_id: n for n in Notification.objects.filter(kind="dispute_seller")}
    assert set(told) == {first.order.seller_id, second.order.seller_id}
    for payment, share in ((first, "$60.00"), (second, "$40.00")):
        note = told[payment.order.seller_id]
        assert note.link == reverse("shop:sale_detail", args=[payment.order.public_id])
        assert str(payment.order.public_id)[:8] in note.subject
        assert f"payment of {share}" in note.body_text


def test_the_sale_page_says_the_payment_is_on_hold(client, fake_transfer):
    _, second = disputed_before_second_fulfils()
    late_transfer(second)
    client.force_login(second.order.seller)
    page = client.get(reverse("shop:sale_detail", args=[second.order.public_id]))
    text = page.content.decode()
    assert "On hold while the buyer's bank dispute is decided" in text
    assert "Needs response (fraudulent)" in text


def test_staff_accepting_the_dispute_releases_a_held_transfer(
    fake_transfer, monkeypatch, django_capture_on_commit_callbacks
):
    """Stripe's answer to "accept" is the dispute lost: recorded at once, with what
    losing brings; the held transfer goes (less the share), and the webhook that
    follows changes nothing."""
    _, second = disputed_before_second_fulfils()
    transfer = late_transfer(second)
    assert transfer.status == "on_hold"
    dispute = Dispute.objects.get()
    action = dispute_actions.dispute_accept(dispute_id=dispute.pk, user_id=None)

    monkeypatch.setattr(
        gateway, "dispute_close", lambda **kw: {"id": kw["dispute"], "status": "lost"}
    )
    with django_capture_on_commit_callbacks():
        dispute_actions.dispute_action_execute(action_id=action.pk)
    transfer.refresh_from_db()
    assert Dispute.objects.get().status == "lost"
    assert (transfer.status, transfer.dispatches) == ("pending", 1)
    assert transfer_execute(transfer_id=transfer.pk).status == "withheld"  # 40.00 ≥ 36.00


def test_a_transfer_an_earlier_try_made_is_recorded_not_held(monkeypatch, fake_transfer):
    """Its answer was lost (a 500 or a timeout), the dispute opened, and the row was
    handed out again: Stripe shows the transfer made, so it is recorded as sent."""
    from payments.models import Transfer

    _, second = disputed_before_second_fulfils()
    Payment.objects.filter(pk=second.pk).update(status=Payment.Status.CAPTURED)
    Transfer.objects.filter(payment=second).delete()
    transfer = Transfer.objects.create(
        payment=second,
        amount=second.transfer_amount,
        currency="usd",
        destination_account=second.destination_account,
        transfer_group="checkout-x",
        source_charge="ch_disputed",
        dispatches=2,
    )
    made = {
        "id": "tr_made_before",
        "amount": 3_600,
        "destination": second.destination_account,
        "source_transaction": "ch_disputed",
        "metadata": {"transfer_id": str(transfer.pk)},
    }
    monkeypatch.setattr(gateway, "transfer_list", lambda **kw: [made])

    done = transfer_execute(transfer_id=transfer.pk)

    assert (done.status, done.stripe_transfer_id) == ("succeeded", "tr_made_before")
    assert fake_transfer == []


def test_a_transfer_still_on_hold_after_its_dispute_closed_is_reported(fake_transfer):
    from payments.models import Transfer

    _, second = disputed_before_second_fulfils()
    transfer = late_transfer(second)
    later = timezone.now() + timedelta(days=1)
    assert not stranded.transfers_unsent(later).exists()  # the dispute is open: waiting
    Dispute.objects.update(status="won")  # closed, but the release never came
    assert list(stranded.transfers_unsent(later)) == [Transfer.objects.get(pk=transfer.pk)]


def test_evidence_and_receipt_claim_only_what_the_charge_took():
    """An order dropped before the capture kept the charge's id but was never
    charged; a refund since is said so."""
    first, second = shared_checkout()
    OrderItemFactory(order=first.order, title="Walnut bowl", quantity=1)
    Payment.objects.filter(pk=second.pk).update(status="canceled", amount_captured=0)
    Payment.objects.filter(pk=first.pk).update(amount_refunded=1_000)
    dispute = apply(snapshot(payment_intent="pi_shared", amount=5_000), 100)

    facts = dispute_actions.evidence_prefill(dispute)
    lines = dispute_receipt.receipt_lines(dispute)

    assert str(second.order.public_id) not in facts["uncategorized_text"]
    assert f"order {first.order.public_id}, $60.00 ($10.00 refunded)" in facts["uncategorized_text"]
    assert "Total paid: $60.00" in lines
    assert "Refunded since: $10.00" in lines
    assert not [line for line in lines if str(second.order.public_id) in line]


def test_stripe_unreachable_for_a_file_is_a_message_and_accepting_attaches_nothing(
    client, payment, fake_update, monkeypatch
):
    def unreachable(**kwargs):
        raise gateway.GatewayUnavailable("timed out")

    monkeypatch.setattr(gateway, "dispute_evidence_upload", unreachable)
    dispute = apply(snapshot(), 100)
    client.force_login(StaffFactory())
    url = reverse("admin:payments_dispute_change", args=[dispute.pk])

    page = client.post(url, {"attach_receipt": "on", "submit": "1"})
    assert page.status_code == 200
    assert b"could not be reached" in page.content
    assert not DisputeAction.objects.exists()

    accepted = client.post(url, {"attach_receipt": "on", "accept": "1"})
    assert accepted.status_code == 302  # no file is made for an acceptance
    assert DisputeAction.objects.get().kind == "accept"


def test_an_acceptance_answered_before_the_withdrawal_webhook_recovers_once(
    payment, monkeypatch, django_capture_on_commit_callbacks
):
    """Stripe's answer to "accept" carries the withdrawal: recovery happens then, and
    the funds_withdrawn webhook that comes later takes nothing more."""
    dispute = apply(snapshot(), 100)  # opened, the money not withdrawn yet (as we know)
    action = dispute_actions.dispute_accept(dispute_id=dispute.pk, user_id=None)
    answer = snapshot("lost", withdrawn=True)
    monkeypatch.setattr(gateway, "dispute_close", lambda **kw: answer)
    with django_capture_on_commit_callbacks():
        dispute_actions.dispute_action_execute(action_id=action.pk)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.funds_withdrawn, dispute.recovery_decided) == (
        "lost",
        True,
        True,
    )
    assert ContractorDebit.objects.count() == 1

    apply(snapshot("needs_response", withdrawn=True), 150)  # the webhook, late
    apply(snapshot("lost", withdrawn=True), 200)
    assert ContractorDebit.objects.count() == 1
