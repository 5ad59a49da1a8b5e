"""`/app/api/locations`: the merchant sees their locations and chooses which count for alerts;
bad input is a 400 naming `location_ids`, and one shop never sees or touches another's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from notifyme.catalog.models import CatalogSettings, Variant
from notifyme.catalog.services import inventory_levels_apply, locations_apply, product_apply
from notifyme.catalog.snapshots import LocationSnapshot
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from tests.catalog.conftest import LOCATION_A, LOCATION_B, level, product_snapshot
from tests.fixtures.shopify import id_token
from tests.restocks.conftest import add_subscribers

pytestmark = pytest.mark.django_db
URL = "/app/api/locations"


def _headers(shop: Shop) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {id_token(shop.domain)}"}


def _post(client: Client, shop: Shop, body: Any, *, raw: bytes | None = None) -> Any:
    data = raw if raw is not None else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **_headers(shop))


@pytest.fixture
def stocked(shop: Shop) -> Variant:
    """Two locations (the pop-up does not fulfil online orders, so holds uncounted stock)."""
    locations_apply(shop=shop, locations=[
        LocationSnapshot(LOCATION_A, "Warehouse"),
        LocationSnapshot(LOCATION_B, "Pop-up", fulfills_online_orders=False)])
    product_apply(shop=shop, snapshot=product_snapshot())
    inventory_levels_apply(shop=shop, levels=[level(0, location=LOCATION_A),
                                              level(4, location=LOCATION_B)])
    variant = Variant.objects.get(shop=shop)
    add_subscribers(shop, variant, 2)
    return variant


def test_get_lists_the_locations_and_the_default(client: Client, shop: Shop,
                                                 stocked: Variant) -> None:
    body = client.get(URL, **_headers(shop)).json()
    assert body["mode"] == "default" and body["location_ids"] is None
    assert [(loc["id"], loc["name"], loc["counts_for_alerts"]) for loc in body["locations"]] == [
        (str(LOCATION_B), "Pop-up", False), (str(LOCATION_A), "Warehouse", True)]


def test_choosing_locations_recomputes_stock_and_may_restock(client: Client, shop: Shop,
                                                             stocked: Variant) -> None:
    response = _post(client, shop, {"location_ids": [str(LOCATION_A), str(LOCATION_B)]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "chosen" and set(body["location_ids"]) == {
        str(LOCATION_A), str(LOCATION_B)}
    stocked.refresh_from_db()
    assert stocked.available_quantity == 4 and Restock.objects.get().total == 2
    back = _post(client, shop, {"location_ids": None}).json()
    assert back["mode"] == "default"
    stocked.refresh_from_db()
    assert stocked.available_quantity == 0


@pytest.mark.parametrize("body", [
    {}, {"location_ids": "all"}, {"location_ids": []}, {"location_ids": [1.5]},
    {"location_ids": [True]}, {"location_ids": ["12a"]}, {"location_ids": ["-5"]},
    {"location_ids": [{"id": 1}]}, {"location_ids": ["9" * 30]}, {"location_ids": ["123"]},
    {"location_ids": None, "locations": []},
])
def test_bad_input_is_400_naming_the_field(client: Client, shop: Shop, stocked: Variant,
                                           body: dict[str, Any]) -> None:
    response = _post(client, shop, body)
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert list(fields) == (["locations"] if "locations" in body else ["location_ids"])
    assert not CatalogSettings.objects.exists()


def test_not_json_and_wrong_method(client: Client, shop: Shop) -> None:
    assert _post(client, shop, None, raw=b"{nope").status_code == 400
    assert client.put(URL, **_headers(shop)).status_code == 405
    assert client.get(URL).status_code == 401


def test_a_shop_cannot_see_or_choose_another_shops_locations(
        client: Client, shop: Shop, other_shop: Shop, stocked: Variant) -> None:
    assert client.get(URL, **_headers(other_shop)).json()["locations"] == []
    response = _post(client, other_shop, {"location_ids": [str(LOCATION_A)]})
    assert response.status_code == 400
    assert "Not a location of this shop" in response.json()["error"]["message"]
