"""Webhook REST JSON → snapshots: every used field read and checked, errors name the field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from notifyme.catalog.rest import (
    PayloadError,
    level_snapshot_from_rest,
    product_id_from_rest_delete,
    product_snapshot_from_rest,
)
from tests.catalog.conftest import ITEM_ID, LOCATION_A, PRODUCT_ID, VARIANT_ID
from tests.catalog.rest_payloads import rest_level, rest_product, rest_variant


def test_a_product_payload_becomes_a_snapshot() -> None:
    payload = rest_product(variants=[
        rest_variant(quantity=3, image_id=850703190),
        rest_variant(VARIANT_ID + 1, item=ITEM_ID + 1, inventory_management=None,
                     inventory_policy="continue", sku=None, price="5")])
    snapshot = product_snapshot_from_rest(payload)
    assert (snapshot.shopify_id, snapshot.title, snapshot.handle, snapshot.status) == (
        PRODUCT_ID, "Linen Shirt", "linen-shirt", "active")
    assert snapshot.published_online and snapshot.complete_variants
    assert snapshot.updated_at == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert snapshot.image_url == "https://cdn.shopify.com/s/files/shirt.jpg"
    first, second = snapshot.variants
    assert (first.shopify_id, first.inventory_item_id, first.price, first.quantity) == (
        VARIANT_ID, ITEM_ID, Decimal("19.99"), 3)
    assert first.inventory_tracked and first.inventory_policy == "deny"
    assert first.image_url == "https://cdn.shopify.com/s/files/shirt.jpg"
    assert not second.inventory_tracked and second.inventory_policy == "continue"
    assert second.sku == "" and second.price == Decimal("5.00") and second.image_url == ""


@pytest.mark.parametrize("fields,published", [
    ({"published_at": None}, False),
    ({"status": "draft"}, False),
    ({"status": "archived"}, False),
    ({}, True),
])
def test_published_online_needs_a_publication_date_and_active(fields: dict[str, Any],
                                                               published: bool) -> None:
    assert product_snapshot_from_rest(rest_product(**fields)).published_online is published


def test_a_payload_of_100_variants_may_be_truncated() -> None:
    variants = [rest_variant(VARIANT_ID + i, item=ITEM_ID + i) for i in range(100)]
    assert not product_snapshot_from_rest(rest_product(variants=variants)).complete_variants
    assert product_snapshot_from_rest(rest_product(variants=variants[:99])).complete_variants


@pytest.mark.parametrize("change,field", [
    ({"id": "632910392"}, "id"),
    ({"id": True}, "id"),
    ({"title": None}, "title"),
    ({"title": "x" * 256}, "title"),
    ({"status": "deleted"}, "status"),
    ({"updated_at": "yesterday"}, "updated_at"),
    ({"updated_at": "2026-12-01T07:00:00"}, "updated_at"),  # no offset
    ({"published_at": 5}, "published_at"),
    ({"variants": None}, "variants"),
    ({"images": [{"src": "https://x"}]}, "images[0].id"),
    ({"image": {"src": 7}}, "image.src"),
])
def test_product_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadError) as error:
        product_snapshot_from_rest({**rest_product(), **change})
    assert error.value.field == field


@pytest.mark.parametrize("change,field", [
    ({"price": 19.99}, "variants[1].price"),
    ({"price": "NaN"}, "variants[1].price"),
    ({"price": "-1.00"}, "variants[1].price"),
    ({"price": "abc"}, "variants[1].price"),
    ({"inventory_item_id": None}, "variants[1].inventory_item_id"),
    ({"inventory_policy": "sometimes"}, "variants[1].inventory_policy"),
    ({"inventory_quantity": "3"}, "variants[1].inventory_quantity"),
    ({"sku": "a\x00b"}, "variants[1].sku"),
    ({"image_id": "850703190"}, "variants[1].image_id"),
])
def test_variant_errors_name_the_variant_and_field(change: dict[str, Any], field: str) -> None:
    variants = [rest_variant(), rest_variant(VARIANT_ID + 1, item=ITEM_ID + 1, **change)]
    with pytest.raises(PayloadError) as error:
        product_snapshot_from_rest(rest_product(variants=variants))
    assert error.value.field == field and field in str(error.value)


def test_a_level_payload_becomes_a_snapshot() -> None:
    level = level_snapshot_from_rest(rest_level(6))
    assert (level.inventory_item_id, level.location_id, level.available) == (
        ITEM_ID, LOCATION_A, 6)
    assert level.updated_at == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert level_snapshot_from_rest(rest_level(None)).available == 0


@pytest.mark.parametrize("change,field", [
    ({"inventory_item_id": None}, "inventory_item_id"),
    ({"location_id": -4}, "location_id"),
    ({"available": "6"}, "available"),
    ({"available": 2**40}, "available"),
    ({"updated_at": None}, "updated_at"),
])
def test_level_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadError) as error:
        level_snapshot_from_rest({**rest_level(1), **change})
    assert error.value.field == field


def test_delete_payload() -> None:
    assert product_id_from_rest_delete({"id": PRODUCT_ID}) == PRODUCT_ID
    with pytest.raises(PayloadError) as error:
        product_id_from_rest_delete({"id": None})
    assert error.value.field == "id"
    with pytest.raises(PayloadError) as error:
        product_id_from_rest_delete([PRODUCT_ID])
    assert error.value.field == "payload"
