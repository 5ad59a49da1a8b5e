"""Shopify-managed installation: the first embedded load exchanges the ID token for an
expiring offline token, installs the shop and queues the initial catalog sync (through the
Shopify stand-in, a real HTTP server)."""

from __future__ import annotations

import threading
from typing import Any

import django_rq
import pytest
from django.db import connection, connections
from django.test import Client

from notifyme.catalog.sync_models import CatalogSync
from notifyme.shops.models import Shop
from notifyme.shops.services import shop_uninstall
from tests.fixtures.shopify import id_token
from tests.fixtures.shopify_standin import StandinHandle
from tests.install.conftest import SHOP, open_app

OLD_SECRET = "an-old-app-secret-from-before-the-rotation-32b"


def _db_dump() -> str:
    """Every column of every shop row, as text (what a database dump would show)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM shops_shop")
        return repr(cursor.fetchall())


def _queued_sync_jobs() -> list[tuple[Any, ...]]:
    return [job.args for job in django_rq.get_queue("bulk").jobs
            if job.func_name == "notifyme.catalog.sync_jobs.run_catalog_sync"]


@pytest.mark.django_db(transaction=True)
def test_first_load_exchanges_installs_stores_encrypted_and_queues_the_sync(
        client: Client, shopify_standin: StandinHandle, standin_shop: str) -> None:
    assert not Shop.objects.filter(domain=SHOP).exists()
    page = open_app(client, shopify_standin, SHOP)
    assert page.status_code == 200
    shop = Shop.objects.get(domain=SHOP)
    assert (shop.state, shop.auth_state) == (Shop.State.INSTALLED, Shop.AuthState.OK)
    assert (shop.name, shop.email, shop.currency, shop.country_code) == (
        "Linen & Co", "owner@linen.example", "EUR", "FR")
    access, refresh = shop.get_access_token(), shop.get_refresh_token()
    assert access and refresh and shop.access_token_expires_at and shop.refresh_token_expires_at
    assert set(shop.granted_scopes.split(",")) >= {"read_products", "read_inventory"}
    dump, html = _db_dump(), page.content.decode()
    for secret in (access, refresh):
        assert secret not in dump and secret not in html
    assert shopify_standin.admin.tokens(SHOP)["token_exchanges"] == 1
    sync = CatalogSync.objects.get(shop=shop)
    assert (sync.state, sync.reason) == (CatalogSync.State.QUEUED, CatalogSync.Reason.INSTALL)
    assert _queued_sync_jobs() == [(sync.pk,)]

    again = open_app(client, shopify_standin, SHOP)
    assert again.status_code == 200
    assert shopify_standin.admin.tokens(SHOP)["token_exchanges"] == 1  # the stored token serves
    assert CatalogSync.objects.filter(shop=shop).count() == 1


@pytest.mark.django_db
def test_the_json_api_installs_on_a_first_call_too(
        client: Client, shopify_standin: StandinHandle, standin_shop: str) -> None:
    token = shopify_standin.admin.mint_id_token(SHOP)
    response = client.get("/app/api/catalog/sync", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["sync"]["state"] == "queued"
    assert Shop.objects.get(domain=SHOP).get_refresh_token()


@pytest.mark.django_db
def test_invalid_subject_token_bounces_for_a_new_id_token(
        client: Client, shopify_standin: StandinHandle, standin_shop: str, settings: Any) -> None:
    # We still accept the previous secret (a rotation); Shopify no longer does.
    settings.SHOPIFY_API_SECRET_OLD = OLD_SECRET
    stale = id_token(SHOP, secret=OLD_SECRET)
    page = client.get("/app/", {"id_token": stale, "shop": SHOP, "embedded": "1"})
    assert page.status_code == 302 and page["Location"].startswith("/app/bounce?")
    api = client.get("/app/api/klaviyo", HTTP_AUTHORIZATION=f"Bearer {stale}")
    assert api.status_code == 401 and api.json()["error"]["reason"] == "invalid_subject_token"
    assert api["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert not Shop.objects.filter(domain=SHOP).exists()  # nothing half-written


@pytest.mark.django_db
def test_shopify_down_is_a_clear_503_page_not_a_500(
        client: Client, shopify_standin: StandinHandle, standin_shop: str) -> None:
    token = shopify_standin.admin.mint_id_token(SHOP)
    shopify_standin.admin.set_switches(down=True)
    page = client.get("/app/", {"id_token": token, "shop": SHOP, "embedded": "1"})
    assert page.status_code == 503 and page["Retry-After"] == "60"
    assert "Shopify is not answering" in page.content.decode()
    api = client.get("/app/api/klaviyo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 503 and api.json()["error"]["code"] == "shopify_unavailable"
    assert not Shop.objects.filter(domain=SHOP).exists()


@pytest.mark.django_db
def test_reinstall_after_uninstall_starts_clean(
        client: Client, shopify_standin: StandinHandle, standin_shop: str) -> None:
    assert open_app(client, shopify_standin, SHOP).status_code == 200
    first = Shop.objects.get(domain=SHOP)
    first_token, first_installed = first.get_access_token(), first.installed_at
    shopify_standin.admin.uninstall(SHOP, notify=False)  # Shopify revokes the tokens
    shop_uninstall(shop=first)  # what app/uninstalled does
    first.refresh_from_db()
    assert first.access_token_encrypted == "" and first.refresh_token_encrypted == ""
    assert CatalogSync.objects.get(shop=first).state == CatalogSync.State.FAILED  # stopped

    assert open_app(client, shopify_standin, SHOP).status_code == 200
    again = Shop.objects.get(domain=SHOP)
    assert again.pk == first.pk and again.state == Shop.State.INSTALLED
    assert again.installed_at > first_installed
    assert again.get_access_token() and again.get_access_token() != first_token
    assert shopify_standin.admin.tokens(SHOP)["token_exchanges"] == 2
    assert CatalogSync.objects.filter(shop=again, state=CatalogSync.State.QUEUED).count() == 1


@pytest.mark.django_db
def test_a_shop_that_needs_reauth_exchanges_again(
        client: Client, shopify_standin: StandinHandle, standin_shop: str) -> None:
    assert open_app(client, shopify_standin, SHOP).status_code == 200
    Shop.objects.filter(domain=SHOP).update(auth_state=Shop.AuthState.NEEDS_REAUTH)
    assert open_app(client, shopify_standin, SHOP).status_code == 200
    shop = Shop.objects.get(domain=SHOP)
    assert shop.auth_state == Shop.AuthState.OK
    assert shopify_standin.admin.tokens(SHOP)["token_exchanges"] == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_loads_exchange_once(
        shopify_standin: StandinHandle, standin_shop: str) -> None:
    statuses: list[int] = []
    start = threading.Barrier(4)

    def load() -> None:
        try:
            start.wait()
            statuses.append(open_app(Client(), shopify_standin, SHOP).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200, 200]
    assert shopify_standin.admin.tokens(SHOP)["token_exchanges"] == 1
    assert CatalogSync.objects.filter(shop__domain=SHOP).count() == 1
