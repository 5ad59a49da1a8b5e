"""The merchant's Restocks page and its settings API, over HTTP with App Bridge ID tokens:
restocks detected from real stock changes, sent through the Klaviyo sandbox, shown with
progress, batches and outcome; the sending settings validated field by field (all or
nothing); the settings page shows the latest restocks above its settings."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from notifyme.catalog.services import locations_apply, variant_update_stock
from notifyme.catalog.snapshots import LocationSnapshot
from notifyme.restocks.models import Restock, RestockSettings
from notifyme.restocks.services import detection_of, restock_cancel, restock_settings_get
from notifyme.shops.models import Shop
from tests.fixtures.shopify import id_token, make_shop, make_variant
from tests.restocks.conftest import Connected, add_subscribers, connect, drain

URL = "/app/api/restocks/settings"


def bearer(shop: Shop) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {id_token(shop.domain)}"}


def page(client: Client, shop: Shop, path: str = "/app/restocks", **params: str) -> str:
    response = client.get(path, {"id_token": id_token(shop.domain), "shop": shop.domain,
                                 "embedded": "1", "host": "YWRtaW4", **params})
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def post(client: Client, shop: Shop, body: Any) -> Any:
    return client.post(URL, data=json.dumps(body), content_type="application/json",
                       **bearer(shop))


@pytest.fixture
def connected(klaviyo_sandbox: Any, db: None) -> Connected:
    """A shop, a sold-out variant and a Klaviyo connection to its own sandbox account."""
    shop = make_shop()
    variant = make_variant(shop, shopify_id=4001, quantity=0)
    account_id, key = connect(klaviyo_sandbox, shop)
    return Connected(shop, variant, account_id, key, shop.klaviyo_connection)


def restock_of(variant: Any, quantity: int) -> Restock:
    restock = detection_of(variant_update_stock(variant=variant, quantity=quantity)).restock
    assert restock is not None
    return restock


def test_restocks_with_progress_batches_and_outcome(
    client: Client, klaviyo_sandbox: Any, connected: Connected
) -> None:
    shop = connected.shop
    add_subscribers(shop, connected.variant, 30)
    done = restock_of(connected.variant, 5)
    drain(done)
    variant_update_stock(variant=connected.variant, quantity=0)  # sold out again
    boots = make_variant(shop, shopify_id=5001, product_id=9002, title="42")
    add_subscribers(shop, boots, 40, prefix="boots")
    post(client, shop, {"send_mode": "batched", "subscribers_per_unit": 4,
                        "batch_interval_minutes": 30})
    batched = restock_of(boots, 3)  # 3 back, 4 per unit: batches of 12

    api = client.get("/app/api/restocks", **bearer(shop)).json()["restocks"]
    assert [r["id"] for r in api] == [batched.pk, done.pk]  # newest first
    assert api[0]["send_mode"] == "batched" and api[0]["batch_size"] == 12
    assert api[0]["outcome"].startswith("Sending in batches of 12")
    assert api[1]["state"] == "completed" and api[1]["outcome"] == "Completed: 30 sent."

    html = page(client, shop)
    rows = re.findall(r'<tr data-restock-id="(\d+)">(.*?)</tr>', html, re.S)
    assert [int(i) for i, _ in rows] == [batched.pk, done.pk]
    assert "Batches of 12" in rows[0][1] and "Sending" in rows[0][1]
    assert "30 / 30" in rows[1][1] and "Completed: 30 sent." in rows[1][1]
    assert 'aria-valuenow="100.0"' in rows[1][1]
    # The live table polls the API the page names (and the settings form posts to its API).
    assert 'data-restocks-url="/app/api/restocks?limit=25"' in html
    assert f'data-url="{URL}"' in html

    restock_cancel(restock=batched)
    [item] = [r for r in client.get("/app/api/restocks", **bearer(shop)).json()["restocks"]
              if r["id"] == batched.pk]
    assert item["state"] == "cancelled" and item["outcome"].startswith("Cancelled: ")


def test_settings_page_shows_latest_restocks_above_the_settings(
    client: Client, klaviyo_sandbox: Any, connected: Connected
) -> None:
    shop = connected.shop
    html = page(client, shop, "/app/")
    assert 'id="restocks-panel"' not in html  # nothing to show a new merchant yet
    add_subscribers(shop, connected.variant, 3)
    restock = restock_of(connected.variant, 2)
    html = page(client, shop, "/app/")
    assert html.index('id="restocks-panel"') < html.index('id="klaviyo-panel"')
    assert f'data-restock-id="{restock.pk}"' in html
    assert 'data-restocks-url="/app/api/restocks?limit=3"' in html
    link = re.search(r'<a class="link" href="([^"]+)">All restocks and sending settings', html)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith("/app/restocks?") and f"shop={shop.domain}" in href
    assert "id_token" not in href  # a link outlives the one-minute token: bounce gets a new one


@pytest.mark.django_db
def test_settings_read_and_change(client: Client) -> None:
    shop = make_shop()
    body = client.get(URL, **bearer(shop)).json()
    assert body["threshold"] == 1 and body["send_mode"] == "all_at_once"
    assert {m["value"] for m in body["send_modes"]} == {"all_at_once", "batched"}
    response = post(client, shop, {"threshold": 3, "cooldown_hours": "48",
                                   "send_mode": "batched", "subscribers_per_unit": 10,
                                   "batch_interval_minutes": 15})
    assert response.status_code == 200, response.content
    saved = RestockSettings.objects.get(shop=shop)
    assert (saved.threshold, saved.cooldown_hours, saved.send_mode, saved.subscribers_per_unit,
            saved.batch_interval_minutes) == (3, 48, "batched", 10, 15)
    html = page(client, shop)
    assert re.search(r'id="threshold" [^>]*value="3"', html)
    assert re.search(r'value="batched" checked', html)
    assert client.get(URL, **bearer(shop)).json()["cooldown_hours"] == 48


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field"), [
    ({"threshold": 0}, "threshold"), ({"threshold": -2}, "threshold"),
    ({"threshold": 1.5}, "threshold"), ({"threshold": True}, "threshold"),
    ({"threshold": ""}, "threshold"), ({"threshold": None}, "threshold"),
    ({"cooldown_hours": 8761}, "cooldown_hours"), ({"cooldown_hours": "1 day"}, "cooldown_hours"),
    ({"subscribers_per_unit": 0}, "subscribers_per_unit"),
    ({"batch_interval_minutes": 99999}, "batch_interval_minutes"),
    ({"send_mode": "sometimes"}, "send_mode"), ({"send_mode": ["batched"]}, "send_mode"),
    ({"threshold": 2, "cooldown_hours": -1}, "cooldown_hours"),  # all or nothing
    ({"shop_id": 2}, "shop_id"),
])
def test_bad_setting_names_the_field_and_writes_nothing(
    client: Client, body: dict[str, Any], field: str
) -> None:
    shop = make_shop()
    before = restock_settings_get(shop=shop)
    response = post(client, shop, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert list(error["fields"]) == [field]
    after = RestockSettings.objects.get(shop=shop)
    assert (after.threshold, after.cooldown_hours, after.send_mode) == (
        before.threshold, before.cooldown_hours, before.send_mode)


@pytest.mark.django_db
def test_settings_api_input_errors_are_json(client: Client) -> None:
    shop = make_shop()
    bad_json = client.post(URL, data=b"{not json", content_type="application/json",
                           **bearer(shop))
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_json"
    empty = post(client, shop, {})
    assert empty.status_code == 400 and "threshold" in empty.json()["error"]["message"]
    assert client.put(URL, **bearer(shop)).status_code == 405
    assert client.get(URL).status_code == 401
    limit = client.get("/app/api/restocks?limit=500", **bearer(shop))
    assert limit.status_code == 400 and list(limit.json()["error"]["fields"]) == ["limit"]


@pytest.mark.django_db
def test_one_shop_never_sees_or_changes_another(client: Client) -> None:
    mine, theirs = make_shop(), make_shop("other-shop.myshopify.com", name="Other")
    theirs_variant = make_variant(theirs, quantity=0)
    add_subscribers(theirs, theirs_variant, 2, prefix="them")
    restock = restock_of(theirs_variant, 4)
    post(client, mine, {"threshold": 7})
    assert restock_settings_get(shop=theirs).threshold == 1
    assert f'data-restock-id="{restock.pk}"' not in page(client, mine)
    assert client.get("/app/api/restocks", **bearer(mine)).json()["restocks"] == []
    response = client.get(f"{URL}?shop={theirs.domain}", **bearer(mine))
    assert response.status_code == 401


@pytest.mark.django_db
def test_locations_listed_with_the_counted_ones_ticked(client: Client) -> None:
    shop = make_shop()
    html = page(client, shop)
    assert "No locations yet" in html
    locations_apply(shop=shop, locations=[
        LocationSnapshot(7001, "Warehouse"),
        LocationSnapshot(7002, "Pop-up", fulfills_online_orders=False)])
    html = page(client, shop)
    assert re.search(r'name="location_ids" value="7001" checked> Warehouse', html)
    assert re.search(r'name="location_ids" value="7002"> Pop-up <span class="badge">No online',
                     html)
    assert 'name="mode" value="default" checked' in html


def test_restocks_page_shows_live_progress_before_its_settings(
    client: Client, klaviyo_sandbox: Any, connected: Connected
) -> None:
    """A merchant opening the page sees what is sending now first, then how it sends."""
    add_subscribers(connected.shop, connected.variant, 3)
    restock = restock_of(connected.variant, 2)
    html = page(client, connected.shop)
    progress = html.index(f'data-restock-id="{restock.pk}"')
    assert progress < html.index('id="sending-title"') < html.index('id="locations-title"')
    assert html.index('id="restocks-title"') < html.index('<form')  # no setting above it
