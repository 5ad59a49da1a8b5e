"""`GET/POST /app/api/catalog/sync` (merchant endpoint: shop from the ID token, 409 while one
runs, 400 naming `mode`) and `manage.py catalog_sync` (progress bar, exit status)."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from notifyme.catalog.sync_models import CatalogSync
from notifyme.catalog.sync_run import catalog_sync_run
from notifyme.shops.models import Shop
from tests.catalog_sync.conftest import install_sync
from tests.factories import shop_make
from tests.fixtures.shopify import id_token
from tests.fixtures.shopify_standin import StandinHandle

pytestmark = pytest.mark.django_db
URL = "/app/api/catalog/sync"


def _api(client: Client, shop: Shop, method: str = "get", body: Any = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {id_token(shop.domain)}"}
    if method == "get":
        return client.get(URL, **headers)
    return client.post(URL, data=json.dumps(body if body is not None else {}),
                       content_type="application/json", **headers)


def test_progress_start_conflict_and_bad_mode(client: Client, installed: Shop) -> None:
    queued = _api(client, installed).json()["sync"]
    assert (queued["state"], queued["reason"], queued["percent"]) == ("queued", "install", 0)
    conflict = _api(client, installed, "post")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "sync_running"
    assert conflict.json()["error"]["sync"]["id"] == queued["id"]

    catalog_sync_run(sync_id=queued["id"])
    done = _api(client, installed).json()["sync"]
    assert (done["state"], done["percent"], done["done_variants"]) == ("succeeded", 100, 31)
    assert done["cost_points"] > 0 and done["finished_at"]

    bad = _api(client, installed, "post", {"mode": "everything"})
    assert bad.status_code == 400 and list(bad.json()["error"]["fields"]) == ["mode"]
    started = _api(client, installed, "post", {"mode": "bulk"})
    assert started.status_code == 202
    new = started.json()["sync"]
    assert new["state"] == "queued" and new["id"] != done["id"]
    assert client.delete(URL, HTTP_AUTHORIZATION=f"Bearer {id_token(installed.domain)}"
                         ).status_code == 405
    assert client.get(URL).status_code == 401


def test_a_shop_sees_and_starts_only_its_own_syncs(client: Client, installed: Shop) -> None:
    other = shop_make("other-shop.myshopify.com")
    mine = install_sync(installed)
    assert _api(client, other).json() == {"sync": None}
    started = _api(client, other, "post")  # not blocked by the other shop's running sync
    assert started.status_code == 202
    assert CatalogSync.objects.get(pk=started.json()["sync"]["id"]).shop == other
    assert _api(client, installed).json()["sync"]["id"] == mine.pk
    # ?shop= in the URL changes nothing: the token decides.
    headers = {"HTTP_AUTHORIZATION": f"Bearer {id_token(other.domain)}"}
    assert client.get(f"{URL}?shop={installed.domain}", **headers).status_code == 401


def test_the_panel_is_on_the_merchant_page(client: Client, installed: Shop) -> None:
    page = client.get("/app/", {"id_token": id_token(installed.domain),
                                "shop": installed.domain})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="catalog-sync-panel"' in html
    assert 'data-catalog-sync-url="/app/api/catalog/sync"' in html
    assert "catalog_sync.js" in html


def test_the_command_draws_a_bar_and_reports(installed: Shop) -> None:
    CatalogSync.objects.filter(shop=installed).delete()  # no initial sync in the way
    out = StringIO()
    call_command("catalog_sync", installed.domain, "--mode", "paging", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("catalog sync #")
    bars = [line for line in lines if line.startswith("[")]
    assert bars[-1].startswith("[" + "#" * 30 + "] 100%")
    assert "31/31 variants" in bars[-1] and "(paging)" in bars[-1]
    percents = [int(line.split("]")[1].split("%")[0]) for line in bars]
    assert percents == sorted(percents) and len({p // 10 for p in percents}) == len(percents)
    assert lines[-1].startswith("done: 5 products, 31 variants,")
    assert "\r" not in out.getvalue()  # not a terminal: one line per 10 %


def test_the_command_follows_a_running_sync_and_fails_with_the_reason(
        installed: Shop, shopify_standin: StandinHandle) -> None:
    out = StringIO()
    call_command("catalog_sync", installed.domain, stdout=out)  # the queued initial sync
    assert "is already queued; following it" in out.getvalue()
    assert "done: 5 products" in out.getvalue()

    shopify_standin.admin.expire_tokens(installed.domain, access=True, refresh=True)
    Shop.objects.filter(pk=installed.pk).update(access_token_expires_at=None)
    with pytest.raises(CommandError, match="re-authorize"):
        call_command("catalog_sync", installed.domain, "--mode", "bulk", stdout=StringIO())
    with pytest.raises(CommandError, match="no installed shop"):
        call_command("catalog_sync", "nobody.myshopify.com", stdout=StringIO())


def test_a_sync_under_way_shows_above_the_settings_and_below_them_once_done(
    client: Client, installed: Shop
) -> None:
    """A new merchant's install sync is live progress: first on the page, not off screen."""

    def page() -> str:
        return client.get("/app/", {"id_token": id_token(installed.domain),
                                    "shop": installed.domain}).content.decode()

    running = CatalogSync.objects.get(shop=installed)  # queued on install
    html = page()
    assert html.count('id="catalog-sync-panel"') == 1
    assert html.index('id="catalog-sync-panel"') < html.index('id="klaviyo-panel"')
    catalog_sync_run(sync_id=running.pk)
    html = page()
    assert html.count('id="catalog-sync-panel"') == 1
    assert html.index('id="klaviyo-panel"') < html.index('id="catalog-sync-panel"')
