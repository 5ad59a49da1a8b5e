"""AdminClient against a real HTTP server (tests/fixtures/shopify_scripted): the request it
sends, 401 → one refresh → re-auth, THROTTLED → wait (not fail), a query costing more than the
bucket never sent, Shopify down → ShopifyUnavailable, GraphQL errors typed."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.shopify import ratelimit, tokens
from integrations.shopify.client import AdminClient
from integrations.shopify.documents import LOCATIONS, SHOP_INFO
from integrations.shopify.errors import (
    GraphQLErrors,
    QueryTooCostly,
    ReauthRequired,
    ShopifyUnavailable,
)
from notifyme.shops.models import Shop
from tests.fixtures.shopify import make_shop
from tests.fixtures.shopify_scripted import ScriptedShopify

DOMAIN = "client-shop.myshopify.com"
pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(scripted_shopify: ScriptedShopify) -> Shop:
    shop = make_shop(DOMAIN)
    tokens.tokens_store(shop=shop, grant=tokens.token_exchange(shop_domain=DOMAIN,
                                                               id_token="id"))
    return shop


def test_run_returns_data_and_counts_the_cost(scripted_shopify: ScriptedShopify,
                                              shop: Shop) -> None:
    scripted_shopify.script.costs = {"ShopInfo": 3}
    client = AdminClient(shop)
    assert client.run(SHOP_INFO) == {"shop": {"name": "Scripted"}}
    client.run(SHOP_INFO)
    assert client.cost_used == 6
    assert scripted_shopify.count("ShopInfo") == 2
    assert ratelimit.cost_estimate("ShopInfo") == (3, False)
    assert scripted_shopify.shops[DOMAIN].access not in repr(client)


def test_a_401_refreshes_once_and_resends(scripted_shopify: ScriptedShopify,
                                          shop: Shop) -> None:
    client = AdminClient(shop)
    client.run(SHOP_INFO)
    with scripted_shopify.lock:  # Shopify retires the access token (e.g. a newer grant)
        scripted_shopify.shops[DOMAIN].access = "shpat_revoked"
    assert client.run(SHOP_INFO) == {"shop": {"name": "Scripted"}}
    assert scripted_shopify.count("refresh_token") == 1
    assert Shop.objects.get(pk=shop.pk).get_access_token() == scripted_shopify.shops[
        DOMAIN].access


def test_a_second_401_after_the_refresh_means_the_shop_needs_reauth(
        scripted_shopify: ScriptedShopify, shop: Shop) -> None:
    scripted_shopify.script.always_401 = True
    with pytest.raises(ReauthRequired):
        AdminClient(shop).run(SHOP_INFO)
    assert scripted_shopify.count("refresh_token") == 1
    assert scripted_shopify.count("ShopInfo") == 2
    stored = Shop.objects.get(pk=shop.pk)
    assert stored.auth_state == Shop.AuthState.NEEDS_REAUTH
    with pytest.raises(ReauthRequired):  # no further request for a shop needing re-auth
        AdminClient(stored).run(SHOP_INFO)
    assert scripted_shopify.count("ShopInfo") == 2


@pytest.mark.parametrize("http_status", [200, 429])
def test_throttled_waits_and_resends_instead_of_failing(
        scripted_shopify: ScriptedShopify, shop: Shop, http_status: int) -> None:
    scripted_shopify.script.throttle_next = 2
    scripted_shopify.script.throttle_status = http_status
    assert AdminClient(shop).run(SHOP_INFO) == {"shop": {"name": "Scripted"}}
    assert scripted_shopify.count("ShopInfo") == 3


def test_the_shared_bucket_waits_for_points_before_sending(
        scripted_shopify: ScriptedShopify, shop: Shop) -> None:
    script = scripted_shopify.script
    script.maximum, script.restore_rate, script.costs = 100.0, 200.0, {"ShopInfo": 60}
    scripted_shopify.reset_bucket()
    client = AdminClient(shop)
    for _ in range(4):  # 240 points from a 100-point bucket: only by waiting for the refill
        client.run(SHOP_INFO)
    # The first call's cost was a guess; after it, the bucket knew and never got THROTTLED.
    assert scripted_shopify.throttled <= 1
    assert client.cost_used == 240


def test_a_query_costing_more_than_the_bucket_is_never_sent(
        scripted_shopify: ScriptedShopify, shop: Shop) -> None:
    script = scripted_shopify.script
    script.maximum, script.costs = 100.0, {"ShopInfo": 5, "Locations": 150}
    scripted_shopify.reset_bucket()
    client = AdminClient(shop)
    client.run(SHOP_INFO)  # the bucket learns its size
    with pytest.raises(QueryTooCostly):
        client.run(LOCATIONS, {"first": 100}, cost=150)
    assert scripted_shopify.count("Locations") == 0
    # Without a stated cost: Shopify's THROTTLED answer names a cost that can never fit;
    # the client stops at once (no waiting), and never sends that query again.
    with pytest.raises(QueryTooCostly):
        client.run(LOCATIONS, {"first": 50})
    assert scripted_shopify.count("Locations") == 1
    with pytest.raises(QueryTooCostly):
        client.run(LOCATIONS, {"first": 50})
    assert scripted_shopify.count("Locations") == 1


def test_shopify_down_is_unavailable(shop: Shop, settings: Any) -> None:
    settings.SHOPIFY_ADMIN_URL = "http://127.0.0.1:9/{shop}"
    with pytest.raises(ShopifyUnavailable):
        AdminClient(shop).run(SHOP_INFO)


def test_graphql_errors_are_typed(scripted_shopify: ScriptedShopify, shop: Shop) -> None:
    scripted_shopify.script.errors = [{"message": "Field 'nope' doesn't exist on type 'Shop'",
                                       "extensions": {"code": "undefinedField"}}]
    with pytest.raises(GraphQLErrors) as caught:
        AdminClient(shop).run(SHOP_INFO)
    assert caught.value.codes == ("undefinedField",)
    assert "nope" in caught.value.messages[0]
