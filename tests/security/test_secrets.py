"""No secret survives a full run anywhere an attacker or an operator could read it.

One run through the product as its users drive it: the merchant opens the app for the first time
(install by token exchange against the Shopify stand-in: a real access and refresh token), the
catalog syncs, the merchant connects Klaviyo through the JSON API, shoppers subscribe through the
signed app proxy, the sync meets 503/429 faults and drains, a restock fans out, the key is
revoked and the next sync fails, support opens its pages and the admin. Then the Klaviyo private
key and the Shopify access and refresh tokens must be absent from:

- the database: every column of every row of every table, read as PostgreSQL prints it
  (`SELECT t::text`, bytea as hex too), what a dump would show;
- Redis: every key and value of the test database, RQ's compressed job payloads included;
- every log record (message, arguments, exception text) at DEBUG level;
- every page and JSON answer rendered during the run, and a walk of every merchant and
  support page afterwards.

Each scanner is shown to look (it finds something it should: the masked key, the shop's
domain, an RQ job), so an empty result means absent and not unread.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.http import HttpResponse
from django.test import Client

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.catalog.models import CatalogSync, Variant
from notifyme.catalog.services import variant_update_stock
from notifyme.catalog.sync_jobs import run_catalog_sync
from notifyme.core.redis import get_redis
from notifyme.restocks.services import detection_of
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import id_token, signed_proxy_query
from tests.fixtures.shopify_standin import StandinHandle
from tests.privacy.conftest import scan_redis
from tests.restocks.conftest import drain as fanout_drain
from tests.security.conftest import url_routes
from tests.security.test_isolation import PARAM, _body
from tests.sync.conftest import drain

SHOP = "secret-keeper.myshopify.com"
HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc2VjcmV0LWtlZXBlcg"  # admin.shopify.com/store/secret-keeper


def database_text() -> str:
    """Every row of every table in the app's schema as PostgreSQL prints it; bytea columns are
    also given decoded (escape form) so a plaintext inside one would show."""
    parts = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables "
                       "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (catalog names)
            parts += [f"{table}: {row[0]}" for row in cursor.fetchall()]
            cursor.execute("SELECT column_name FROM information_schema.columns WHERE "
                           "table_schema = current_schema() AND table_name = %s "
                           "AND data_type = 'bytea'", [table])
            for (column,) in cursor.fetchall():
                cursor.execute(f'SELECT encode("{column}", \'escape\') FROM "{table}"')  # noqa: S608
                parts += [f"{table}.{column}: {row[0]}" for row in cursor.fetchall()]
    return "\n".join(parts)


class Recorder:
    """Every response of the run, kept for the scan."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def keep(self, response: HttpResponse) -> HttpResponse:
        body = _body(response)
        self.bodies.append(f"{response.status_code} {response.get('Content-Type', '')}\n"
                           + body.decode("utf-8", "replace")
                           + "\n" + "\n".join(f"{k}: {v}" for k, v in response.items()))
        return response


def _bearer() -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {id_token(SHOP)}"}


def _full_run(client: Client, standin: StandinHandle, sandbox: SandboxHandle,
              seen: Recorder) -> tuple[Shop, str]:
    standin.admin.create_shop(SHOP, name="Secret Keeper", email="owner@keeper.example")
    standin.admin.add_product(SHOP, "Wool Coat", variants=[
        {"title": "S", "sku": "WC-S", "price": "149.00", "stock": 0},
        {"title": "M", "sku": "WC-M", "price": "149.00", "stock": 2},
        {"title": "L", "sku": "WC-L", "price": "149.00", "stock": 0}], notify=False)
    # Install: the admin opens the app with an ID token; the app exchanges it for tokens.
    token = standin.admin.mint_id_token(SHOP)
    page = seen.keep(client.get("/app/", {"id_token": token, "shop": SHOP, "embedded": "1",
                                          "host": HOST}))
    assert page.status_code == 200
    shop = Shop.objects.get(domain=SHOP)
    run_catalog_sync(CatalogSync.objects.filter(shop=shop).latest("pk").pk)
    variant = Variant.objects.get(product__shop=shop, sku="WC-S")
    # Connect Klaviyo through the merchant's JSON API.
    sandbox.admin.set_rate_limits(enabled=False)
    account, key = sandbox.new_account("Keeper Klaviyo")
    connected = seen.keep(client.post("/app/api/klaviyo/connect", {"private_key": key},
                                      content_type="application/json", **_bearer()))
    assert connected.status_code == 200, connected.content
    # Shoppers subscribe through the signed app proxy; the first sync meets faults.
    for n in range(4):
        answer = seen.keep(client.post(f"/proxy/subscribe?{signed_proxy_query(SHOP)}", {
            "variant_id": variant.shopify_id, "email": f"shopper{n}@example.com",
            "first_name": f"Shopper {n}"}, content_type="application/json"))
        assert answer.status_code == 201, answer.content
    sandbox.admin.set_faults(account["id"], next_errors=[503, 429, "drop"])
    drain(shop.pk, lane="sync", timeout=30)
    sandbox.admin.clear_faults(account["id"])
    drain(shop.pk, lane="sync", timeout=30)
    # A restock fans out.
    restock = detection_of(variant_update_stock(variant=variant, quantity=5)).restock
    assert restock is not None
    fanout_drain(restock)
    # The key is revoked: the next sync fails with 401 and the merchant must act.
    sandbox.admin.revoke_key(key)
    still_sold_out = Variant.objects.get(product__shop=shop, sku="WC-L")
    late = seen.keep(client.post(f"/proxy/subscribe?{signed_proxy_query(SHOP)}", {
        "variant_id": still_sold_out.shopify_id, "email": "late@example.com"},
        content_type="application/json"))
    assert late.status_code == 201, late.content
    drain(shop.pk, lane="sync", timeout=30)
    halted = KlaviyoConnection.objects.get(shop=shop)
    assert halted.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    seen.keep(client.post("/app/api/klaviyo/retest", "{}", content_type="application/json",
                          **_bearer()))
    seen.keep(client.post("/app/api/klaviyo/connect", {"private_key": key},
                          content_type="application/json", **_bearer()))  # refused now
    return shop, key


def _walk_pages(client: Client, shop: Shop, seen: Recorder) -> None:
    sub = Subscription.objects.filter(shop=shop).first()
    assert sub is not None
    for route in sorted({r for r, _ in url_routes() if r.startswith("app/")}):
        if PARAM.search(route):
            continue
        path = "/" + route
        if path.startswith("/app/api/"):
            seen.keep(client.get(path, **_bearer()))
        else:
            seen.keep(client.get(path, {"id_token": id_token(SHOP), "shop": SHOP,
                                        "embedded": "1"}))
    staff = Client()
    staff.force_login(User.objects.create_superuser("keeper", "k@example.com", "pw-12345678"))
    pages = ["/support/", f"/support/shops/{SHOP}/", "/support/errors/",
             f"/support/shoppers/{sub.pk}/", f"/support/shoppers/?q={sub.email}",
             f"/support/shops/{SHOP}/retry/preview", "/support/metrics", "/admin/rq/"]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages.append(base)
        if model._meta.managed:  # django-rq's dashboard entry has no table
            pages += [f"{base}{pk}/change/"
                      for pk in model._default_manager.values_list("pk", flat=True)[:5]]
    for page in pages:
        response = seen.keep(staff.get(page))
        assert response.status_code in (200, 302), (page, response.status_code)


# transaction=True: commits happen, so the on-commit nudges enqueue real RQ jobs whose payloads
# the Redis scan reads (inside a test transaction no job would ever be written).
@pytest.mark.django_db(transaction=True)
def test_no_key_or_token_in_the_database_redis_logs_or_pages_after_a_full_run(
        client: Client, shopify_standin: StandinHandle, klaviyo_sandbox: SandboxHandle,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seen = Recorder()
    shop, key = _full_run(client, shopify_standin, klaviyo_sandbox, seen)
    access, refresh = shop.get_access_token(), shop.get_refresh_token()
    assert access and refresh and key.startswith("pk_")
    _walk_pages(client, shop, seen)
    # The private part of each secret (a prefix such as pk_ or shpat_ is not secret).
    secrets = {"klaviyo key": key, "klaviyo key body": key[4:],
               "shopify access token": access, "shopify refresh token": refresh}

    dump = database_text()
    logs = "\n".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''} {r.__dict__!r}" for r in caplog.records)
    pages = "\n".join(seen.bodies)
    redis_hits = scan_redis(*secrets.values())
    found = {f"{name} in {where}" for name, secret in secrets.items()
             for where, text in (("database", dump), ("logs", logs), ("pages", pages))
             if secret in text}
    assert sorted(found) == []
    assert redis_hits == []

    # The scanners looked: each sees what it should.
    assert (SHOP in dump and "sync_attempt" in dump.lower()) or "klaviyo" in dump.lower()
    assert f"pk_…{key[-4:]}" in logs  # the masked form is what the logs carry
    assert len(seen.bodies) > 50 and "Secret Keeper" in pages
    assert any(True for _ in get_redis().scan_iter(match="rq:job:*"))  # job payloads scanned
    assert any(True for _ in get_redis().scan_iter(match=f"sh:rl:{{{SHOP}}}*"))
