"""The client end to end against the Shopify stand-in (a real `python -m sandboxes.shopify`
process executing queries over the official schema, with Shopify's cost rules and expiring
tokens): install by token exchange, every catalog read, a bulk export, refresh, re-auth,
throttling and a query too costly for the bucket."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from integrations.shopify import catalog, tokens
from integrations.shopify.client import AdminClient
from integrations.shopify.documents import SHOP_INFO
from integrations.shopify.errors import InvalidSubjectToken, QueryTooCostly, ReauthRequired
from notifyme.shops.models import Shop
from tests.fixtures.shopify import make_shop
from tests.fixtures.shopify_standin import StandinHandle

DOMAIN = "standin-client.myshopify.com"


def _install(standin: StandinHandle) -> Shop:
    standin.new_shop(DOMAIN, name="Stand-in Client")
    shop = make_shop(DOMAIN)
    grant = tokens.token_exchange(shop_domain=DOMAIN,
                                  id_token=standin.admin.mint_id_token(DOMAIN))
    tokens.tokens_store(shop=shop, grant=grant)
    return shop


@pytest.mark.django_db
def test_install_then_read_the_catalog(shopify_standin: StandinHandle) -> None:
    shop = _install(shopify_standin)
    admin = shopify_standin.admin
    made = admin.add_product(DOMAIN, "Rain Jacket", notify=False, variants=[
        {"title": "S", "sku": "RJ-S", "price": "49.00", "stock": 0},
        {"title": "M", "sku": "RJ-M", "price": "49.00", "stock": 3, "tracked": True}])
    client = AdminClient(shop)
    assert client.run(SHOP_INFO)["shop"]["myshopifyDomain"] == DOMAIN

    page = catalog.products_page(client)
    assert not page.has_next
    (product,) = page.products
    assert int(product["legacyResourceId"]) == made["product_id"]
    variants = product["variants"]["nodes"]
    assert [v["sku"] for v in variants] == ["RJ-S", "RJ-M"]
    assert {int(v["inventoryItem"]["legacyResourceId"]) for v in variants} == set(
        made["inventory_item_ids"])

    counts = catalog.catalog_counts(client)
    assert (counts.products, counts.variants) == (1, 2)
    (location,) = catalog.locations(client)
    assert location["fulfillsOnlineOrders"] is True

    item = catalog.inventory_item_variant(client,
                                          inventory_item_id=made["inventory_item_ids"][1])
    assert item is not None and item["variant"]["sku"] == "RJ-M"
    levels = catalog.variants_inventory(client, variant_ids=made["variant_ids"])
    available = [node["inventoryItem"]["inventoryLevels"]["nodes"][0]["quantities"][0]
                 ["quantity"] for node in levels]
    assert available == [0, 3]
    assert client.cost_used > 0


@pytest.mark.django_db
def test_a_bulk_export_streams_every_variant(shopify_standin: StandinHandle) -> None:
    shop = _install(shopify_standin)
    shopify_standin.admin.bulk_generate(DOMAIN, products=30, variants_per=4)
    client = AdminClient(shop)
    operation_id = catalog.bulk_catalog_start(client)
    seen: list[str] = []
    done = catalog.bulk_operation_wait(client, operation_id=operation_id, interval=0.1,
                                       progress=lambda status: seen.append(status.status))
    assert seen[-1] == "COMPLETED"
    lines = list(catalog.bulk_results(done.url))
    products = [line for line in lines if "__parentId" not in line]
    variants = [line for line in lines if "__parentId" in line]
    assert (len(products), len(variants)) == (30, 120)
    assert {v["__parentId"] for v in variants} == {p["id"] for p in products}


@pytest.mark.django_db
def test_an_expired_id_token_is_an_invalid_session(shopify_standin: StandinHandle) -> None:
    shopify_standin.new_shop(DOMAIN)
    with pytest.raises(InvalidSubjectToken):
        tokens.token_exchange(shop_domain=DOMAIN,
                              id_token=shopify_standin.admin.mint_id_token(DOMAIN, exp_in=-60))


@pytest.mark.django_db
def test_an_expired_access_token_is_refreshed_once_on_401(
        shopify_standin: StandinHandle) -> None:
    shop = _install(shopify_standin)
    shopify_standin.admin.expire_tokens(DOMAIN, access=True)  # our row still thinks it fresh
    assert AdminClient(shop).run(SHOP_INFO)["shop"]["myshopifyDomain"] == DOMAIN
    assert shopify_standin.admin.tokens(DOMAIN)["refreshes"] == 1


@pytest.mark.django_db
def test_an_expired_refresh_token_means_reauth(shopify_standin: StandinHandle) -> None:
    shop = _install(shopify_standin)
    shopify_standin.admin.expire_tokens(DOMAIN, access=True, refresh=True)
    with pytest.raises(ReauthRequired):
        AdminClient(shop).run(SHOP_INFO)
    assert Shop.objects.get(pk=shop.pk).auth_state == Shop.AuthState.NEEDS_REAUTH


@pytest.mark.django_db
def test_after_uninstall_the_shop_needs_reauth(shopify_standin: StandinHandle) -> None:
    shop = _install(shopify_standin)
    shopify_standin.admin.uninstall(DOMAIN, notify=False)
    with pytest.raises(ReauthRequired):
        AdminClient(shop).run(SHOP_INFO)
    assert Shop.objects.get(pk=shop.pk).auth_state == Shop.AuthState.NEEDS_REAUTH


@pytest.mark.django_db
def test_a_small_bucket_makes_the_client_wait_not_fail(shopify_standin: StandinHandle) -> None:
    shop = _install(shopify_standin)
    shopify_standin.admin.bulk_generate(DOMAIN, products=25, variants_per=2)
    # A bucket about one page deep: every page after the first must wait for the refill.
    shopify_standin.admin.config(bucket_max=700, restore_rate=500)
    client = AdminClient(shop)
    pages, after = 0, None
    while True:
        page = catalog.products_page(client, after=after)
        pages += 1
        if not page.has_next:
            break
        after = page.end_cursor
    assert pages == 3
    stats = shopify_standin.admin.stats(DOMAIN)
    assert stats["requests"] >= 3
    assert stats.get("throttled", 0) <= 1  # at most after the first guess, then never


@pytest.mark.django_db
def test_a_query_costing_more_than_the_bucket_is_never_sent_again(
        shopify_standin: StandinHandle) -> None:
    shop = _install(shopify_standin)
    shopify_standin.admin.config(bucket_max=100, restore_rate=50)
    client = AdminClient(shop)
    client.run(SHOP_INFO)  # cheap: the bucket learns its size
    with pytest.raises(QueryTooCostly):
        catalog.products_page(client)  # ~600 points: Shopify could never run it here
    sent = shopify_standin.admin.stats(DOMAIN)["requests"]
    with pytest.raises(QueryTooCostly):
        catalog.products_page(client)
    assert shopify_standin.admin.stats(DOMAIN)["requests"] == sent


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_keep_the_shop(shopify_standin: StandinHandle) -> None:
    shop = _install(shopify_standin)
    shopify_standin.admin.expire_tokens(DOMAIN, access=True)
    start = threading.Barrier(2)
    results: dict[str, Any] = {}

    def worker(name: str) -> None:
        try:
            mine = Shop.objects.get(pk=shop.pk)
            start.wait()
            results[name] = AdminClient(mine).run(SHOP_INFO)["shop"]["myshopifyDomain"]
        except Exception as error:  # reported by the assertion below
            results[name] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"a": DOMAIN, "b": DOMAIN}
    assert shopify_standin.admin.tokens(DOMAIN)["refreshes"] == 1
    stored = Shop.objects.get(pk=shop.pk)
    assert AdminClient(stored).run(SHOP_INFO)["shop"]["myshopifyDomain"] == DOMAIN
