"""A burst of stock-level webhooks for one shop is applied in runs (notifyme/webhooks/batching.py):
each event still ends with its own outcome, the newest level wins whatever the order, a rise
restocks once, and what the batch cannot settle (a bad payload, an item the mirror lacks) is
processed alone exactly as a single event would be."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations.shopify.tokens import tokens_forget
from notifyme.catalog.models import Variant
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from notifyme.webhooks import processing
from notifyme.webhooks.models import WebhookEvent
from tests.catalog.conftest import ITEM_ID, VARIANT_ID
from tests.catalog.rest_payloads import rest_level, rest_product, rest_variant
from tests.restocks.conftest import add_subscribers
from tests.webhooks.conftest import SHOP, deliver

pytestmark = pytest.mark.django_db
VARIANTS = 20


def _catalog(client: Client) -> None:
    variants = [rest_variant(VARIANT_ID + i, item=ITEM_ID + i, position=i + 1)
                for i in range(VARIANTS)]
    assert deliver(client, "products/create", rest_product(variants=variants)).status_code == 200
    processing.process_shop(SHOP)


def _stamp(second: int) -> str:
    return f"2026-12-01T08:00:{second:02d}-05:00"


def _outcomes() -> dict[str, tuple[str, str]]:
    return {e.webhook_id: (e.state, e.outcome or e.last_error)
            for e in WebhookEvent.objects.filter(topic="inventory_levels/update")}


def test_a_burst_ends_with_the_newest_levels_and_one_outcome_per_event(
        client: Client, shop: Shop) -> None:
    _catalog(client)
    add_subscribers(shop, Variant.objects.get(shopify_id=VARIANT_ID), 3)
    # Each variant gets levels 1, 2, 3 delivered newest first: out of order, in one claim.
    for level in (3, 2, 1):
        for i in range(VARIANTS):
            deliver(client, "inventory_levels/update",
                    rest_level(level, item=ITEM_ID + i, updated_at=_stamp(level)),
                    webhook_id=f"wh-{i}-{level}")
    processing.process_shop(SHOP)
    assert set(Variant.objects.filter(shop=shop).values_list("available_quantity", flat=True)) \
        == {3}
    outcomes = _outcomes()
    assert len(outcomes) == 3 * VARIANTS
    assert {state for state, _ in outcomes.values()} == {"processed"}
    assert "restock #" in outcomes["wh-0-3"][1]  # the event whose level the variant holds
    assert "no stock change" in outcomes["wh-5-1"][1]
    assert Restock.objects.get().total == 3  # one rise, one restock


def test_a_bad_payload_and_an_unknown_item_are_settled_alone(client: Client, shop: Shop) -> None:
    _catalog(client)
    tokens_forget(shop=shop)  # no Admin API lookup possible for the unknown item
    deliver(client, "inventory_levels/update", rest_level(4, item=ITEM_ID), webhook_id="a")
    deliver(client, "inventory_levels/update", {"inventory_item_id": ITEM_ID + 1,
                                                "location_id": "x", "available": 2},
            webhook_id="bad")
    deliver(client, "inventory_levels/update", rest_level(6, item=ITEM_ID + 999),
            webhook_id="unknown")
    deliver(client, "inventory_levels/update", rest_level(7, item=ITEM_ID + 2), webhook_id="b")
    processing.process_shop(SHOP)
    outcomes = _outcomes()
    assert outcomes["a"][0] == outcomes["b"][0] == "processed"
    assert outcomes["bad"][0] == "failed" and "location_id" in outcomes["bad"][1]
    assert outcomes["unknown"] == ("processed", "inventory item not in the catalog")
    quantities = dict(Variant.objects.values_list("inventory_item_id", "available_quantity"))
    assert (quantities[ITEM_ID], quantities[ITEM_ID + 1], quantities[ITEM_ID + 2]) == (4, 0, 7)


def test_an_error_while_applying_falls_back_to_one_at_a_time(
        client: Client, shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """One event whose level cannot be applied (here: a variant whose stock write raises) must
    not take the others down: the run is rolled back and every event retried alone."""
    _catalog(client)
    for i in range(3):
        deliver(client, "inventory_levels/update", rest_level(5, item=ITEM_ID + i),
                webhook_id=f"wh-{i}")
    real = processing.batching.inventory_levels_apply
    poisoned = Variant.objects.get(inventory_item_id=ITEM_ID + 1).pk

    def apply(**kwargs):  # type: ignore[no-untyped-def]
        if any(level.inventory_item_id == ITEM_ID + 1 for level in kwargs["levels"]):
            Variant.objects.filter(pk=poisoned).update(title="half-written")
            raise RuntimeError("variant 1 is broken")
        return real(**kwargs)

    monkeypatch.setattr(processing.batching, "inventory_levels_apply", apply)
    monkeypatch.setattr("notifyme.webhooks.handlers.catalog.inventory_levels_apply", apply)
    processing.process_shop(SHOP)
    outcomes = _outcomes()
    assert outcomes["wh-0"][0] == outcomes["wh-2"][0] == "processed"
    assert outcomes["wh-1"][0] == "failed" and "variant 1 is broken" in outcomes["wh-1"][1]
    assert Variant.objects.get(pk=poisoned).title != "half-written"  # rolled back


def _queries_to_process(client: Client, level: int) -> int:
    for i in range(VARIANTS):
        deliver(client, "inventory_levels/update",
                rest_level(level, item=ITEM_ID + i, updated_at=_stamp(level)),
                webhook_id=f"wh-{i}-{level}")
    with CaptureQueriesContext(connection) as captured:
        processing.process_shop(SHOP)
    assert set(Variant.objects.values_list("available_quantity", flat=True)) == {level}
    return len(captured.captured_queries)


def test_a_run_costs_far_fewer_queries_than_its_events_one_by_one(
        client: Client, shop: Shop, settings: Any) -> None:
    """The point of the batch: not one transaction, a lookup and a lease write per event."""
    _catalog(client)
    _queries_to_process(client, 1)  # the rise from 0 (restock detection) out of the way
    batched = _queries_to_process(client, 2)
    settings.WEBHOOK_CLAIM = 1  # one event per claim: every run is a single event
    one_by_one = _queries_to_process(client, 3)
    assert batched < 0.7 * one_by_one, (batched, one_by_one)
