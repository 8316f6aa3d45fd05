"""The shapes the resource modules share (``stripe_sandbox.resources.common``),
on a bare :class:`Sandbox` (no server)."""

from __future__ import annotations

import pytest

from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError
from stripe_sandbox.resources.application_fees import REFUNDS
from stripe_sandbox.resources.common import list_where, save_update
from stripe_sandbox.resources.transfers import REVERSALS
from stripe_sandbox.sandbox import Ctx, Sandbox


@pytest.fixture
def ctx() -> Ctx:
    return Sandbox(SandboxConfig()).ctx()


def transfer(ctx: Ctx, transfer_id: str = "tr_1", amount: int = 1000) -> dict:
    obj = {
        "id": transfer_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "reversed": False,
        "reversals": REVERSALS.empty(transfer_id),
    }
    return ctx.store.add(obj, None)


def reversal(reversal_id: str, transfer_id: str, amount: int) -> dict:
    return {
        "id": reversal_id,
        "object": "transfer_reversal",
        "transfer": transfer_id,
        "amount": amount,
    }


def test_a_new_parent_embeds_an_empty_list():
    assert REFUNDS.empty("fee_1") == {
        "object": "list",
        "data": [],
        "has_more": False,
        "total_count": 0,
        "url": "/v1/application_fees/fee_1/refunds",
    }


def test_attach_counts_the_amount_and_refreshes_the_embedded_list(ctx):
    parent = transfer(ctx)
    previous = REVERSALS.attach(ctx, parent, reversal("trr_1", "tr_1", 400))
    assert previous == {"amount_reversed": 0, "reversed": False}
    assert (parent["amount_reversed"], parent["reversed"]) == (400, False)
    assert REVERSALS.remaining(parent) == 600
    REVERSALS.attach(ctx, parent, reversal("trr_2", "tr_1", 600))
    assert (parent["amount_reversed"], parent["reversed"]) == (1000, True)
    embedded = parent["reversals"]
    assert [item["id"] for item in embedded["data"]] == ["trr_2", "trr_1"]
    assert "_account" not in embedded["data"][0]
    assert embedded["total_count"] == 2


def test_share_is_proportional_and_capped_at_what_remains(ctx):
    parent = transfer(ctx, amount=900)
    # A third of the charge refunded: a third of the transfer.
    assert REVERSALS.share(parent, 1000, 3000, 0) == 300
    REVERSALS.attach(ctx, parent, reversal("trr_1", "tr_1", 800))
    assert REVERSALS.share(parent, 3000, 3000, 300) == 100


def test_children_are_listed_and_found_only_under_their_parent(ctx):
    first, second = transfer(ctx, "tr_1"), transfer(ctx, "tr_2")
    REVERSALS.attach(ctx, first, reversal("trr_1", "tr_1", 10))
    REVERSALS.attach(ctx, second, reversal("trr_2", "tr_2", 10))
    page = REVERSALS.list_page(ctx, {}, "tr_1")
    assert [item["id"] for item in page["data"]] == ["trr_1"]
    assert page["url"] == "/v1/transfers/tr_1/reversals"
    assert REVERSALS.retrieve(ctx, "tr_1", "trr_1")["id"] == "trr_1"
    with pytest.raises(StripeError) as info:
        REVERSALS.retrieve(ctx, "tr_1", "trr_2")
    assert info.value.status == 404
    with pytest.raises(StripeError) as info:
        REVERSALS.list_page(ctx, {}, "tr_nope")
    assert info.value.error["message"] == "No such transfer: 'tr_nope'"


def test_list_where_filters_on_the_given_fields_and_path_values(ctx):
    for n, (customer, status) in enumerate([("cus_1", "open"), ("cus_2", "open"), ("cus_1", "x")]):
        ctx.store.add({"id": f"obj_{n}", "object": "thing", "customer": customer, "status": status})

    def ids(params, fields=("customer", "status"), **equal):
        return [
            obj["id"]
            for obj in list_where(ctx, "thing", "/v1/things", params, fields, **equal)["data"]
        ]

    assert ids({}) == ["obj_2", "obj_1", "obj_0"]
    assert ids({"customer": "cus_1"}) == ["obj_2", "obj_0"]
    assert ids({"customer": "cus_1", "status": "open"}) == ["obj_0"]
    # Only the named fields filter; other parameters (limit, …) do not.
    assert ids({"status": "open", "limit": 1}, fields=("customer",)) == ["obj_2"]
    assert ids({}, fields=(), status="x") == ["obj_2"]


def test_save_update_emits_only_when_something_changed(ctx):
    obj = ctx.store.add({"id": "thing_1", "object": "thing"})
    save_update(ctx, obj, {}, "thing.updated")
    assert ctx.store.select("event", None) == []
    save_update(ctx, obj, {"description": None}, "thing.updated", "thing.changed")
    events = ctx.store.select("event", None)
    assert [event["type"] for event in events] == ["thing.changed", "thing.updated"]
    assert events[0]["data"]["previous_attributes"] == {"description": None}
