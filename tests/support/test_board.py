"""The health board, driven as support uses it: real syncs against the Klaviyo sandbox with
injected faults, real Shopify calls to the scripted Shopify, signed webhooks; then the pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from integrations.klaviyo.messages import sentence_for
from integrations.shopify import tokens
from integrations.shopify.client import AdminClient
from integrations.shopify.documents import SHOP_INFO
from integrations.shopify.errors import ReauthRequired
from notifyme.shops.models import Shop
from notifyme.support import catalogue
from notifyme.sync import engine
from tests.factories import klaviyo_connect, shop_make, subscriptions_bulk_make, variant_make
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import signed_webhook
from tests.fixtures.shopify_scripted import ScriptedShopify

pytestmark = pytest.mark.django_db


def _merchant(sandbox: SandboxHandle, domain: str, *, subscribers: int = 3) -> Any:
    shop = shop_make(domain)
    variant = variant_make(shop)
    connected = klaviyo_connect(shop, sandbox)
    subscriptions_bulk_make(shop, variant, subscribers, prefix=domain.split(".")[0])
    return shop, connected


def _rows(page: str) -> list[tuple[str, str]]:
    """(domain, health) of the board's rows, in order."""
    return re.findall(r'<tr data-shop="([^"]+)" data-health="([^"]+)">', page)


def _row_html(page: str, domain: str) -> str:
    start = page.index(f'<tr data-shop="{domain}"')
    end = page.find('<tr data-shop="', start + 10)
    return page[start:end if end > 0 else None]


def test_a_revoked_key_puts_the_shop_first_with_its_sentence(
        staff: Client, klaviyo_sandbox: SandboxHandle) -> None:
    healthy, _ = _merchant(klaviyo_sandbox, "aaa-healthy.myshopify.com")
    assert "halted" not in engine.run_shop(healthy.pk, "sync")
    broken, connected = _merchant(klaviyo_sandbox, "zzz-broken.myshopify.com")
    klaviyo_sandbox.admin.revoke_key(connected.key)
    assert engine.run_shop(broken.pk, "sync")["halted"] is True

    page = staff.get("/support/").content.decode()
    rows = _rows(page)
    assert rows[0] == ("zzz-broken.myshopify.com", "action")
    assert ("aaa-healthy.myshopify.com", "healthy") in rows
    row = _row_html(page, "zzz-broken.myshopify.com")
    assert escape(sentence_for("invalid_key")) in row
    assert 'href="/support/errors/#klaviyo-invalid_key"' in row
    assert "Needs attention" in row and "installed" in row
    assert "3" in row  # the three subscribers wait in the backlog
    healthy_row = _row_html(page, "aaa-healthy.myshopify.com")
    assert "none in 7 days" in healthy_row and "ago" in healthy_row  # last success shown

    shop_page = staff.get("/support/shops/zzz-broken.myshopify.com/").content.decode()
    invalid = catalogue.entry("klaviyo", "invalid_key")
    assert escape(invalid.explanation) in shop_page and escape(invalid.fix) in shop_page
    assert 'class="failure"' in shop_page and "401" in shop_page


INJECTED = [
    # (kind, how the sandbox is made to fail, halts?)
    ("missing_scopes", lambda admin, c: admin.set_key_scopes(c.key, [
        "accounts:read", "lists:read", "lists:write", "profiles:read", "events:write",
        "subscriptions:write"]), True),
    ("not_found", lambda admin, c: admin.delete_list(c.account_id, c.list_id), True),
    ("rate_limited", lambda admin, c: admin.set_faults(
        c.account_id, next_errors=[429], retry_after_seconds=30), False),
    ("unavailable", lambda admin, c: admin.set_faults(c.account_id, next_errors=[503]), False),
    ("edge_blocked", lambda admin, c: admin.set_faults(c.account_id, html_403_next=1), False),
    ("bad_request", lambda admin, c: admin.set_faults(c.account_id, next_errors=[400]), False),
]


@pytest.mark.parametrize(("kind", "inject", "halts"), INJECTED, ids=[k for k, *_ in INJECTED])
def test_each_injected_klaviyo_fault_shows_its_sentence(
        staff: Client, klaviyo_sandbox: SandboxHandle, kind: str, inject: Any,
        halts: bool) -> None:
    shop, connected = _merchant(klaviyo_sandbox, "fault-shop.myshopify.com", subscribers=1)
    inject(klaviyo_sandbox.admin, connected)
    engine.run_shop(shop.pk, "sync")
    connected.connection.refresh_from_db()

    page = staff.get("/support/?q=fault-shop").content.decode()
    assert _rows(page) == [("fault-shop.myshopify.com", "action" if halts else "failing")]
    row = _row_html(page, "fault-shop.myshopify.com")
    expected = connected.connection.last_error_message if halts else sentence_for(kind)
    assert escape(expected) in row
    assert f"klaviyo/{kind}</code></a> 1 / 1" in row
    if kind == "missing_scopes":
        assert "profiles:write" in row
    if kind == "rate_limited":
        assert "429s 24 h: 1" in row and "cool-down" in row  # the limiter's wait, from Redis
        shop_page = staff.get("/support/shops/fault-shop.myshopify.com/").content.decode()
        assert shop_page.count('data-kind="klaviyo/rate_limited"') == 1
        assert "1 in 24 h, 1 in 7 days; cool-down in force:" in shop_page


def test_shopify_reauth_a_failed_webhook_and_an_uninstall(
        staff: Client, scripted_shopify: ScriptedShopify) -> None:
    reauth = shop_make("reauth-shop.myshopify.com")
    tokens.tokens_store(shop=reauth, grant=tokens.token_exchange(
        shop_domain=reauth.domain, id_token="id"))
    scripted_shopify.script.always_401 = True
    with pytest.raises(ReauthRequired):
        AdminClient(reauth).run(SHOP_INFO)

    hooks = shop_make("hooks-shop.myshopify.com")
    body, headers = signed_webhook("inventory_levels/update", None, shop_domain=hooks.domain,
                                   raw=b"not json")
    assert Client().post("/webhooks/shopify", body, content_type="application/json",
                         **headers).status_code == 200

    gone = shop_make("gone-shop.myshopify.com")
    body, headers = signed_webhook("app/uninstalled", {"id": 1, "domain": gone.domain},
                                   shop_domain=gone.domain)
    Client().post("/webhooks/shopify", body, content_type="application/json", **headers)
    from notifyme.webhooks.processing import process_shop

    process_shop(gone.domain)
    assert Shop.objects.get(pk=gone.pk).state == Shop.State.UNINSTALLED

    page = staff.get("/support/").content.decode()
    health = dict(_rows(page))
    assert health["reauth-shop.myshopify.com"] == "action"
    assert health["hooks-shop.myshopify.com"] == "failing"  # before "Klaviyo not connected"
    assert health["gone-shop.myshopify.com"] == "uninstalled"
    assert _rows(page)[-1][0] == "gone-shop.myshopify.com"
    assert "needs re-auth" in _row_html(page, "reauth-shop.myshopify.com")
    hooks_row = _row_html(page, "hooks-shop.myshopify.com")
    assert "webhook/bad_payload</code></a> 1 / 1" in hooks_row
    assert escape(catalogue.entry("webhook", "bad_payload").fix) in hooks_row
    hooks_page = staff.get("/support/shops/hooks-shop.myshopify.com/").content.decode()
    assert 'class="failed-webhook"' in hooks_page and "inventory_levels/update" in hooks_page
    assert "the body is not JSON" in hooks_page
    reauth_page = staff.get("/support/shops/reauth-shop.myshopify.com/").content.decode()
    assert escape(catalogue.entry("shop", "needs_reauth").explanation) in reauth_page


def test_filter_search_and_pages(staff: Client, settings: Any) -> None:
    for i in range(7):
        shop_make(f"page-{i}.myshopify.com")
    shop_make("other.myshopify.com", tokens=False)
    first = staff.get("/support/", {"q": "page-"}).content.decode()
    assert len(_rows(first)) == 7 and "other.myshopify.com" not in first
    only = staff.get("/support/", {"status": "not_connected"}).content.decode()
    assert {d for d, _ in _rows(only)} == {f"page-{i}.myshopify.com" for i in range(7)}
    action = staff.get("/support/", {"status": "action"}).content.decode()
    assert _rows(action) == [("other.myshopify.com", "action")]  # no Shopify token at all
    settings.SUPPORT_BOARD_PAGE_SIZE = 3
    pages = [staff.get("/support/", {"q": "page-", "page": n}).content.decode()
             for n in (1, 2, 3)]
    seen = [d for p in pages for d, _ in _rows(p)]
    assert seen == sorted(seen) and len(set(seen)) == 7
    assert "Page 3 of 3" in pages[2] and "Next" not in pages[2]


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "broken"}, "status"), ({"page": "x"}, "page"), ({"page": "0"}, "page"),
    ({"q": "a" * 300}, "q"), ({"q": "demo\x00"}, "q"), ({"page": "9" * 7}, "page")])
def test_bad_filters_are_a_400_naming_the_field(staff: Client, params: dict[str, str],
                                                 field: str) -> None:
    response = staff.get("/support/", params)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()


def test_an_unknown_shop_page_is_a_404(staff: Client) -> None:
    response = staff.get("/support/shops/nobody.myshopify.com/")
    assert response.status_code == 404 and "nobody.myshopify.com" in response.content.decode()


def _board_queries(client: Client) -> int:
    with CaptureQueriesContext(db_connection) as queries:
        assert client.get("/support/").status_code == 200
    return len(queries)


def test_the_board_costs_the_same_queries_for_50_shops_as_for_5(
        staff: Client, klaviyo_sandbox: SandboxHandle) -> None:
    for i in range(2):
        shop, connected = _merchant(klaviyo_sandbox, f"busy-{i}.myshopify.com")
        klaviyo_sandbox.admin.set_faults(connected.account_id, next_errors=[503])
        engine.run_shop(shop.pk, "sync")
    for i in range(3):
        shop_make(f"quiet-{i}.myshopify.com")
    five = _board_queries(staff)
    for i in range(45):
        shop = shop_make(f"more-{i:02d}.myshopify.com")
        if i % 5 == 0:
            subscriptions_bulk_make(shop, variant_make(shop), 2, prefix=f"m{i}")
    assert len(_rows(staff.get("/support/").content.decode())) == 50
    assert _board_queries(staff) == five


def test_a_duplicate_profile_shows_its_sentence_and_the_shop_keeps_syncing(
        staff: Client, klaviyo_sandbox: SandboxHandle) -> None:
    from integrations.klaviyo.client import KlaviyoClient
    from notifyme.subscriptions.services import subscription_create

    shop = shop_make("dup-shop.myshopify.com")
    variant = variant_make(shop)
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    client = KlaviyoClient(connected.key)  # the email and the phone already have profiles
    client.upsert_profile({"email": "dana@shop.test"})
    client.upsert_profile({"phone_number": "+14155550199"})
    subscription_create(shop=shop, variant=variant, email="dana@shop.test",
                        phone="+14155550199", marketing_consent=True)
    engine.run_shop(shop.pk, "sync")

    row = _row_html(staff.get("/support/?q=dup-shop").content.decode(), "dup-shop.myshopify.com")
    assert 'data-health="failing"' in row
    assert "klaviyo/duplicate_profile</code></a> 1 / 1" in row
    assert escape(sentence_for("duplicate_profile")) in row
    assert "resolved since" in row  # synced by email after the 409
