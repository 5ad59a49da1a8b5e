"""GET /app/api/restocks: live progress for the shop in the token, and only that shop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.models import Restock
from notifyme.restocks.services import detection_of
from tests.fixtures.shopify import make_shop, make_variant
from tests.restocks.conftest import Connected, add_subscribers, drain, materialise_all


def test_progress_numbers(klaviyo_sandbox: Any, connected: Connected,
                          bearer: Callable[..., dict[str, str]]) -> None:
    add_subscribers(connected.shop, connected.variant, 1500)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=3)).restock
    assert restock is not None
    client = Client()
    [item] = client.get("/app/api/restocks", **bearer(connected.shop.domain)).json()["restocks"]
    assert item["materialising"] is True and item["total"] == 1000  # the first chunk
    materialise_all(restock)
    response = client.get("/app/api/restocks", **bearer(connected.shop.domain))
    assert response.status_code == 200
    [item] = response.json()["restocks"]
    assert item["id"] == restock.pk and item["state"] == "running"
    assert (item["sent"], item["total"], item["remaining"]) == (0, 1500, 1500)
    assert item["product_title"] == "Linen Shirt" and item["quantity"] == 3

    from notifyme.restocks.fanout import fanout_send_chunk

    fanout_send_chunk(restock_id=restock.pk)  # one chunk of 1,000
    item = client.get("/app/api/restocks", **bearer(connected.shop.domain)).json()["restocks"][0]
    assert item["sent"] == 1000 and item["percent"] == 66.7
    assert item["rate_per_second"] > 0  # 1,000 events in the last minute
    assert item["eta_seconds"] is not None and item["eta_seconds"] > 0
    drain(restock)
    item = client.get("/app/api/restocks", **bearer(connected.shop.domain)).json()["restocks"][0]
    assert item["state"] == "completed" and item["sent"] == 1500 and item["eta_seconds"] is None
    assert item["finished_at"]


def test_only_the_token_shop_is_visible(db: None, bearer: Callable[..., dict[str, str]]) -> None:
    mine, theirs = make_shop(), make_shop("other-shop.myshopify.com", name="Other")
    for shop in (mine, theirs):
        variant = make_variant(shop, quantity=0)
        add_subscribers(shop, variant, 2, prefix=shop.domain[:3])
        variant_update_stock(variant=variant, quantity=1)
    client = Client()
    items = client.get("/app/api/restocks", **bearer(mine.domain)).json()["restocks"]
    assert [i["id"] for i in items] == [Restock.objects.get(shop=mine).pk]
    # A ?shop= naming another store is refused, never honoured.
    response = client.get(f"/app/api/restocks?shop={theirs.domain}", **bearer(mine.domain))
    assert response.status_code in (400, 401, 403)


def test_requires_a_session_token(db: None) -> None:
    response = Client().get("/app/api/restocks")
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_dashboard_page_includes_the_panel(db: None) -> None:
    """The settings page shows the latest restocks at the top, once there is one (the whole
    list, with the sending settings, is the Restocks page)."""
    from tests.fixtures.shopify import id_token

    shop = make_shop()
    query = {"shop": shop.domain, "embedded": "1"}
    page = Client().get("/app/", {"id_token": id_token(shop.domain), **query})
    assert page.status_code == 200
    assert 'id="restocks-panel"' not in page.content.decode()
    variant = make_variant(shop, quantity=0)
    add_subscribers(shop, variant, 2)
    detection_of(variant_update_stock(variant=variant, quantity=1))
    page = Client().get("/app/", {"id_token": id_token(shop.domain), **query})
    html = page.content.decode()
    assert 'id="restocks-panel"' in html and 'data-restocks-url="/app/api/restocks?limit=3"' in html
    assert html.index('id="restocks-panel"') < html.index('id="klaviyo-panel"')
    assert "dashboard/restocks.js" in html
