"""The merchant's Demand page and API, driven over HTTP with App Bridge ID tokens: storefront
signups (the signed app proxy) rank the variants, revenue waiting is waiting times price in the
shop's currency, the chart counts signups per UTC day, one shop never sees another's."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from tests.factories import subscriptions_bulk_make, variant_make
from tests.fixtures.shopify import id_token, make_shop
from tests.subscriptions.helpers import subscribe

pytestmark = pytest.mark.django_db


def bearer(shop: Shop) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {id_token(shop.domain)}"}


def document(client: Client, shop: Shop, path: str = "/app/demand", **params: str) -> str:
    response = client.get(path, {"id_token": id_token(shop.domain), "shop": shop.domain,
                                 "embedded": "1", **params})
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def priced(variant: Variant, price: str) -> Variant:
    Variant.objects.filter(pk=variant.pk).update(price=Decimal(price))
    variant.refresh_from_db()
    return variant


@pytest.fixture
def catalog(db: None) -> tuple[Shop, Variant, Variant, Variant]:
    shop = make_shop()
    shirt = priced(variant_make(shop, shopify_id=4001, title="Large"), "49.00")
    boots = priced(variant_make(shop, shopify_id=5001, product_id=9002, title="42",
                                product_title="Trail Boots"), "180.00")
    socks = priced(variant_make(shop, shopify_id=6001, product_id=9003, title="One size",
                                product_title="Wool Socks"), "12.50")
    return shop, shirt, boots, socks


def test_storefront_signups_rank_variants_with_revenue_waiting(
    client: Client, catalog: tuple[Shop, Variant, Variant, Variant]
) -> None:
    shop, shirt, boots, socks = catalog
    for i in range(3):  # three shoppers ask for the shirt through the storefront form
        response = subscribe(client, {"variant_id": 4001, "email": f"shopper{i}@example.com"})
        assert response.status_code == 201, response.content
    subscriptions_bulk_make(shop, boots, 2, prefix="boots")
    subscriptions_bulk_make(shop, socks, 5, prefix="socks")
    gone = subscriptions_bulk_make(shop, boots, 4, prefix="gone")  # notified or unsubscribed
    Subscription.objects.filter(pk__in=[s.pk for s in gone[:2]]).update(status="notified")
    Subscription.objects.filter(pk__in=[s.pk for s in gone[2:]]).update(status="unsubscribed")

    body = client.get("/app/api/demand", **bearer(shop)).json()
    assert body["currency"] == "USD" and body["sort"] == "waiting"
    ranked = [(v["rank"], v["product_title"], v["waiting"], v["revenue_waiting"])
              for v in body["variants"]]
    assert ranked == [(1, "Wool Socks", 5, "62.50"), (2, "Linen Shirt", 3, "147.00"),
                      (3, "Trail Boots", 2, "360.00")]
    assert body["totals"] == {"waiting": 10, "variants": 3, "revenue_waiting": "569.50"}
    assert body["variants"][1]["shopify_variant_id"] == "4001"
    assert body["variants"][1]["shopify_product_id"] == "9001"
    assert body["variants"][1]["price"] == "49.00"

    by_revenue = client.get("/app/api/demand?sort=revenue", **bearer(shop)).json()
    assert [v["product_title"] for v in by_revenue["variants"]] == [
        "Trail Boots", "Linen Shirt", "Wool Socks"]

    html = document(client, shop)
    rows = re.findall(r'<tr data-variant-id="(\d+)">', html)
    assert rows == [str(socks.pk), str(shirt.pk), str(boots.pk)]
    assert "$569.50" in html and "$360.00" in html and "$147.00" in html
    assert 'data-total-waiting>10<' in html
    # In the admin, a variant's title opens it in Shopify (to restock it); not in the stand-in.
    assert '<a class="link" href="shopify://admin/products/9002/variants/5001"' in html
    assert "shopify://admin" not in document(client, shop, dev_frame="1")
    revenue_html = document(client, shop, sort="revenue")
    assert re.findall(r'<tr data-variant-id="(\d+)">', revenue_html)[0] == str(boots.pk)


def test_shop_currency_formats_amounts(client: Client, db: None) -> None:
    shop = make_shop("euro-shop.myshopify.com", currency="EUR")
    variant = priced(variant_make(shop, shopify_id=7001), "1234.50")
    subscriptions_bulk_make(shop, variant, 2)
    html = document(client, shop)
    assert "€2,469.00" in html and "€1,234.50" in html
    assert client.get("/app/api/demand", **bearer(shop)).json()["currency"] == "EUR"


def test_signups_per_day_chart(client: Client, catalog: tuple[Shop, Variant, Variant, Variant]
                               ) -> None:
    shop, shirt, _, _ = catalog
    now = timezone.now()
    signups = subscriptions_bulk_make(shop, shirt, 6, prefix="chart")
    ages = [0, 0, 1, 10, 45, 200]  # days ago: two today, one yesterday, ... one long ago
    for subscription, age in zip(signups, ages, strict=True):
        Subscription.objects.filter(pk=subscription.pk).update(
            created_at=now - timedelta(days=age))
    # Notified signups still count: the chart is signups received, not who still waits.
    Subscription.objects.filter(pk=signups[3].pk).update(status="notified")

    series = client.get("/app/api/demand?days=30", **bearer(shop)).json()["signups"]
    assert series["days"] == 30 and len(series["series"]) == 30
    assert series["series"][-1] == {"date": now.date().isoformat(), "signups": 2}
    assert series["series"][-2]["signups"] == 1 and series["series"][-11]["signups"] == 1
    assert sum(point["signups"] for point in series["series"]) == 4
    ninety = client.get("/app/api/demand?days=90", **bearer(shop)).json()["signups"]
    assert len(ninety["series"]) == 90 and sum(p["signups"] for p in ninety["series"]) == 5

    html = document(client, shop)
    for days, total in ((30, 4), (90, 5)):
        figure = html.split(f'data-chart-days="{days}"', 1)[1].split("</figure>", 1)[0]
        assert f'<span data-chart-total>{total}</span>' in figure
        bars = re.findall(r'<rect [^>]*data-value="(\d+)"', figure)
        assert len(bars) == days and sum(map(int, bars)) == total
    assert 'id="range-30" value="30" checked' in html  # 30 days shown first
    assert 'id="range-90" value="90" checked' in document(client, shop, days="90")


def test_empty_shop(client: Client, db: None) -> None:
    shop = make_shop()
    body = client.get("/app/api/demand", **bearer(shop)).json()
    assert body["variants"] == [] and body["totals"]["waiting"] == 0
    assert body["totals"]["revenue_waiting"] == "0.00"
    html = document(client, shop)
    assert "No one is waiting yet" in html and "$0.00" in html


def test_one_shop_never_sees_another(client: Client, db: None) -> None:
    mine, theirs = make_shop(), make_shop("other-shop.myshopify.com", name="Other")
    subscriptions_bulk_make(mine, variant_make(mine, product_title="Mine Shirt"), 1)
    subscriptions_bulk_make(theirs, variant_make(theirs, product_title="Their Secret Coat"), 9,
                            prefix="them")
    body = client.get("/app/api/demand", **bearer(mine)).json()
    assert [v["product_title"] for v in body["variants"]] == ["Mine Shirt"]
    assert body["totals"]["waiting"] == 1
    assert "Their Secret Coat" not in document(client, mine)
    # The shop is the token's: a ?shop= naming another store is refused, never honoured.
    response = client.get(f"/app/api/demand?shop={theirs.domain}", **bearer(mine))
    assert response.status_code == 401
    assert "Their Secret Coat" not in response.content.decode()


def test_pagination(client: Client, db: None) -> None:
    shop = make_shop()
    for i in range(5):
        variant = variant_make(shop, shopify_id=8000 + i, product_id=9100 + i,
                               product_title=f"Product {i}")
        subscriptions_bulk_make(shop, variant, 5 - i, prefix=f"p{i}-")
    first = client.get("/app/api/demand?limit=2", **bearer(shop)).json()
    second = client.get("/app/api/demand?limit=2&page=2", **bearer(shop)).json()
    last = client.get("/app/api/demand?limit=2&page=3", **bearer(shop)).json()
    titles = [v["product_title"] for page in (first, second, last) for v in page["variants"]]
    assert titles == [f"Product {i}" for i in range(5)]
    assert [v["rank"] for v in second["variants"]] == [3, 4]
    assert (first["has_next"], second["has_next"], last["has_next"]) == (True, True, False)


def test_constant_number_of_queries(client: Client, db: None) -> None:
    shop = make_shop()
    headers = bearer(shop)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/app/api/demand", **headers).status_code == 200
        return len(captured)

    variant = variant_make(shop, shopify_id=8100, product_id=9200)
    subscriptions_bulk_make(shop, variant, 3)
    few = queries()
    for i in range(12):
        variant = variant_make(shop, shopify_id=8200 + i, product_id=9300 + i)
        subscriptions_bulk_make(shop, variant, 2, prefix=f"q{i}-")
    assert queries() == few  # not one query per variant


@pytest.mark.parametrize(("query", "field"), [
    ("sort=price", "sort"), ("days=0", "days"), ("days=366", "days"), ("days=ten", "days"),
    ("limit=0", "limit"), ("limit=201", "limit"), ("page=0", "page"), ("page=-1", "page"),
    ("page=1e3", "page"), ("days=%EF%BC%93", "days"), ("variant=abc", "variant"),
    ("variant=99999999", "variant"),
])
def test_bad_query_names_the_field(client: Client, db: None, query: str, field: str) -> None:
    shop = make_shop()
    response = client.get(f"/app/api/demand?{query}", **bearer(shop))
    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == [field] and field in error["message"]


def test_bad_page_query_is_a_400_page_naming_the_field(client: Client, db: None) -> None:
    shop = make_shop()
    response = client.get("/app/demand", {"id_token": id_token(shop.domain),
                                          "shop": shop.domain, "days": "45"})
    assert response.status_code == 400
    assert "days must be 30 or 90" in response.content.decode()


def test_needs_a_session(client: Client, db: None) -> None:
    make_shop()
    response = client.get("/app/api/demand")
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert client.post("/app/api/demand", **bearer(make_shop())).status_code == 405
    page = client.get("/app/demand?shop=demo-shop.myshopify.com")
    assert page.status_code == 302 and page["Location"].startswith("/app/bounce?")
    assert "shopify-reload=%2Fapp%2Fdemand" in page["Location"]


def test_signups_trend_of_one_variant(client: Client,
                                      catalog: tuple[Shop, Variant, Variant, Variant]) -> None:
    shop, shirt, boots, _ = catalog
    subscriptions_bulk_make(shop, shirt, 4, prefix="shirt")
    subscriptions_bulk_make(shop, boots, 2, prefix="boots")
    body = client.get(f"/app/api/demand?variant={boots.pk}", **bearer(shop)).json()
    assert body["signups"]["variant_id"] == boots.pk
    assert sum(p["signups"] for p in body["signups"]["series"]) == 2
    assert body["totals"]["waiting"] == 6  # the ranking and totals stay the whole shop's

    html = document(client, shop)
    trend = re.search(rf'href="([^"]*variant={boots.pk}[^"]*)" data-trend', html)
    assert trend is not None and "id_token" not in trend.group(1)
    html = document(client, shop, variant=str(boots.pk))
    assert "Signups per day: Trail Boots — 42" in html and "data-chart-all" in html
    figure = html.split('data-chart-days="30"', 1)[1].split("</figure>", 1)[0]
    assert '<span data-chart-total>2</span>' in figure


def test_another_shops_variant_is_refused(client: Client, db: None) -> None:
    mine, theirs = make_shop(), make_shop("other-shop.myshopify.com", name="Other")
    their_variant = variant_make(theirs, product_title="Their Secret Coat")
    subscriptions_bulk_make(theirs, their_variant, 3)
    response = client.get(f"/app/api/demand?variant={their_variant.pk}", **bearer(mine))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["variant"]
    page = client.get("/app/demand", {"id_token": id_token(mine.domain), "shop": mine.domain,
                                      "variant": str(their_variant.pk)})
    assert page.status_code == 400 and "Their Secret Coat" not in page.content.decode()
    assert "variant must be the id of one of your variants" in page.content.decode()
