"""A session token of shop A reads or changes nothing of shop B, through any URL.

The walk enumerates Django's URL resolver, so an endpoint added tomorrow is probed the day it
is added: every route under `/app/` is a merchant route and is called with A's ID token (as a
Bearer header for `/app/api/`, as the `id_token` query of the embedded document otherwise),
with every method, once plain and once per id field (`ID_FIELDS`) carrying B's value in the
query and in a JSON body; every path parameter takes B's id (a parameter whose name the walk
does not know fails the test: say which of B's rows it names in `Tenant.ids`). Then:

- a path that names B's row answers 404 (or 403/405), never 2xx;
- no response carries text only B holds (`B_MARKERS`), whatever its status;
- nothing of B changed: every row of every model reachable from B's Shop (and every model that
  belongs to no shop) compares equal before and after.

A route outside `/app/` must be listed in `NOT_PER_SHOP` with the reason it is not reachable
with a merchant's session; a new prefix fails `test_every_route_is_classified` until it is.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from tests.fixtures.shopify import id_token
from tests.security.conftest import B_MARKERS, Tenant, shop_snapshot, url_routes

#: Routes outside the merchant app, by prefix, and why a merchant session token is not what
#: guards them (each guard is tested where the index in tests/security/README.md says).
NOT_PER_SHOP = {
    "healthz": "no shop data: DB and Redis reachability only",
    "openapi.json": "the public description of the endpoints, the same for everyone",
    "admin/": "Django admin: staff login and CSRF (test_csrf.py), no ID token accepted",
    "support/": "staff pages over every shop: staff login and CSRF (test_csrf.py)",
    "proxy/": "storefront: the shop comes from Shopify's signed app-proxy query, not a "
              "session (tests/subscriptions/test_proxy_signature.py)",
    "webhooks/": "Shopify's HMAC over the raw body names the shop (tests/webhooks/)",
    "auth/": "install: Shopify's signed query + state cookie (tests/install/test_oauth.py)",
    "dev/": "development stand-ins, mounted only with NOTIFYME_DEV_TOOLS (never in production)",
}
METHODS = ("get", "post", "put", "patch", "delete")
#: Fields that name a row, sent with B's value (`Tenant.ids`) one at a time.
ID_FIELDS = ("subscription_id", "import_id", "variant_id", "variant", "request", "request_id",
             "location_ids", "product_id", "list_id", "shop", "restock_id", "id")
PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def merchant_routes() -> list[str]:
    return sorted({route for route, _ in url_routes() if route.startswith("app/")})


def test_every_route_is_classified() -> None:
    unclassified = [route for route, _ in url_routes()
                    if not route.startswith("app/")
                    and not route.startswith(tuple(NOT_PER_SHOP))]
    assert unclassified == [], "say whether these are per-shop (NOT_PER_SHOP needs a reason)"
    assert len(merchant_routes()) >= 30  # the walk sees the whole app, not an empty resolver


def _fill(route: str, ids: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match["name"]
        assert name in ids, f"{route}: which row of the shop does <{name}> name? (Tenant.ids)"
        return str(ids[name])
    return "/" + PARAM.sub(one, route)


def _body(response: HttpResponse) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)


def _call(client: Client, method: str, path: str, *, attacker: Tenant,
          fields: dict[str, Any]) -> HttpResponse:
    token = id_token(attacker.shop.domain)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    query: dict[str, Any] = {key: json.dumps(v) if isinstance(v, list) else v
                             for key, v in fields.items()}
    if not path.startswith("/app/api/"):  # the embedded document: token in the query
        query = {"id_token": token, "shop": attacker.shop.domain, "embedded": "1", **query}
    if method == "get":
        return client.get(path, query, **headers)
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    target = f"{path}?{qs}" if qs else path
    return getattr(client, method)(target, json.dumps(fields), content_type="application/json",
                                   **headers)


def _requests(routes: list[str], ids: dict[str, Any]
              ) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(route, method, path, fields) for every route, method and id field."""
    calls = []
    for route in routes:
        path = _fill(route, ids)
        for method in METHODS:
            calls.append((route, method, path, {}))
            calls += [(route, method, path, {name: ids[name]})
                      for name in ID_FIELDS if name in ids]
    return calls


@pytest.mark.django_db(transaction=False)
def test_a_token_for_shop_a_reads_or_changes_nothing_of_shop_b(
        tenants: tuple[Tenant, Tenant], client: Client) -> None:
    attacker, victim = tenants
    before = shop_snapshot(victim.shop)
    routes = merchant_routes()
    leaks, served_b_row, errors = [], [], []
    calls = _requests(routes, victim.ids)
    assert len(calls) > 1000  # every route x method x id field
    for route, method, path, fields in calls:
        response = _call(client, method, path, attacker=attacker, fields=fields)
        body = _body(response)
        where = f"{method.upper()} {path} {fields or ''} → {response.status_code}"
        if response.status_code >= 500:
            errors.append(where)
        leaks += [f"{where} shows {marker!r}" for marker in B_MARKERS
                  if marker.lower().encode() in body.lower()]
        if PARAM.search(route) and 200 <= response.status_code < 300:
            served_b_row.append(where)  # the path names B's row: only 403/404/405 will do
    assert errors == []
    assert leaks == []
    assert served_b_row == []
    after = shop_snapshot(victim.shop)
    changed = [label for label in before if before[label] != after[label]]
    assert changed == [], "B's rows changed under A's token"



@pytest.mark.django_db
def test_the_walk_reaches_rows_it_may_reach(tenants: tuple[Tenant, Tenant],
                                            client: Client) -> None:
    """The control: with A's own ids the same paths answer 2xx, so the 404s above are the
    isolation and not a walk that never authenticates or never finds a row."""
    attacker, _ = tenants
    for route in merchant_routes():
        if not PARAM.search(route):
            continue
        path = _fill(route, attacker.ids)
        statuses = {method: _call(client, method, path, attacker=attacker, fields={}
                                  ).status_code for method in ("get", "delete")}
        assert any(200 <= status < 300 for status in statuses.values()), (path, statuses)
    page = _call(client, "get", "/app/subscribers", attacker=attacker, fields={})
    assert page.status_code == 200


@pytest.mark.django_db
def test_a_cannot_point_its_klaviyo_connection_at_bs_list(tenants: tuple[Tenant, Tenant],
                                                          client: Client) -> None:
    """Klaviyo ids are not ours to scope: A's key must be what refuses B's list, so that A's
    subscribers can never be sent into B's Klaviyo account."""
    attacker, victim = tenants
    connection = attacker.store.connected.connection
    own_list = connection.list_id
    response = _call(client, "post", "/app/api/klaviyo/list", attacker=attacker,
                     fields={"list_id": victim.ids["list_id"]})
    assert 400 <= response.status_code < 500, response.content
    connection.refresh_from_db()
    assert connection.list_id == own_list and connection.status == "connected"
    same = _call(client, "post", "/app/api/klaviyo/list", attacker=attacker,
                 fields={"list_id": own_list})
    assert same.status_code == 200, same.content  # the request itself was well formed
