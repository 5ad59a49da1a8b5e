"""Expiring offline tokens against a real HTTP token endpoint (tests/fixtures/shopify_scripted):
exchange, code grant, storage, refresh before expiry, rotation under two concurrent workers,
expired / reused / refused refresh tokens, a lost refresh answer retried."""

from __future__ import annotations

import logging
import threading
import traceback
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from integrations.shopify import tokens
from integrations.shopify.client import AdminClient
from integrations.shopify.documents import SHOP_INFO
from integrations.shopify.errors import (
    InvalidSubjectToken,
    MissingScopes,
    ReauthRequired,
    ShopifyUnavailable,
)
from notifyme.shops.models import Shop
from tests.fixtures.shopify import make_shop
from tests.fixtures.shopify_scripted import ScriptedShopify

DOMAIN = "token-shop.myshopify.com"


def _installed(scripted: ScriptedShopify) -> Shop:
    shop = make_shop(DOMAIN)
    tokens.tokens_store(shop=shop, grant=tokens.token_exchange(shop_domain=DOMAIN,
                                                               id_token="an-id-token"))
    return shop


def _expire_access(shop: Shop, *, minutes: float = 4) -> None:
    """The stored access token expires within the 5-minute margin."""
    Shop.objects.filter(pk=shop.pk).update(
        access_token_expires_at=timezone.now() + timedelta(minutes=minutes))
    shop.refresh_from_db()


@pytest.mark.django_db
def test_token_exchange_asks_for_an_expiring_token_and_stores_it_encrypted(
        scripted_shopify: ScriptedShopify) -> None:
    shop = _installed(scripted_shopify)
    stored = Shop.objects.get(pk=shop.pk)
    token = scripted_shopify.shops[DOMAIN].access
    assert stored.get_access_token() == token
    assert token not in stored.access_token_encrypted
    assert scripted_shopify.shops[DOMAIN].refresh not in stored.refresh_token_encrypted
    assert stored.access_token_expires_at is not None
    assert stored.access_token_expires_at > timezone.now() + timedelta(minutes=59)
    assert stored.refresh_token_expires_at is not None
    assert stored.refresh_token_expires_at > timezone.now() + timedelta(days=89)
    assert stored.granted_scopes == "read_inventory,read_locations,read_orders,read_products"
    assert stored.auth_state == Shop.AuthState.OK


def test_the_grant_never_shows_its_tokens(scripted_shopify: ScriptedShopify) -> None:
    grant = tokens.token_exchange(shop_domain=DOMAIN, id_token="x")
    assert grant.access_token not in repr(grant) and grant.refresh_token not in repr(grant)
    assert "shpat_…" in repr(grant)


def test_an_invalid_id_token_is_an_invalid_session(scripted_shopify: ScriptedShopify) -> None:
    with pytest.raises(InvalidSubjectToken):
        tokens.token_exchange(shop_domain=DOMAIN, id_token="bad")


def test_a_grant_missing_a_required_scope_is_refused(scripted_shopify: ScriptedShopify) -> None:
    scripted_shopify.script.scope = "read_products"
    with pytest.raises(MissingScopes) as caught:
        tokens.code_exchange(shop_domain=DOMAIN, code="a-code")
    assert caught.value.missing == ("read_inventory", "read_locations", "read_orders")


def test_the_code_grant_asks_for_an_expiring_token(scripted_shopify: ScriptedShopify) -> None:
    grant = tokens.code_exchange(shop_domain=DOMAIN, code="a-code")
    assert grant.refresh_token.startswith("shprt_") and grant.access_expires_at is not None
    assert scripted_shopify.count("authorization_code") == 1


def test_an_unreachable_token_endpoint_is_unavailable(settings: Any) -> None:
    settings.SHOPIFY_ADMIN_URL = "http://127.0.0.1:9/{shop}"
    with pytest.raises(ShopifyUnavailable):
        tokens.token_exchange(shop_domain=DOMAIN, id_token="x")


@pytest.mark.django_db
def test_a_fresh_token_is_used_as_it_is(scripted_shopify: ScriptedShopify) -> None:
    shop = _installed(scripted_shopify)
    assert tokens.access_token(shop=shop) == scripted_shopify.shops[DOMAIN].access
    assert scripted_shopify.count("refresh_token") == 0


@pytest.mark.django_db
def test_a_token_expiring_within_five_minutes_is_refreshed_and_the_pair_rotates(
        scripted_shopify: ScriptedShopify) -> None:
    shop = _installed(scripted_shopify)
    old_refresh = shop.get_refresh_token()
    _expire_access(shop)
    token = tokens.access_token(shop=shop)
    stored = Shop.objects.get(pk=shop.pk)
    assert token == scripted_shopify.shops[DOMAIN].access == stored.get_access_token()
    assert stored.get_refresh_token() not in ("", old_refresh)
    assert scripted_shopify.count("refresh_token") == 1


@pytest.mark.django_db
def test_an_expired_refresh_token_needs_reauth_without_asking_shopify(
        scripted_shopify: ScriptedShopify) -> None:
    shop = _installed(scripted_shopify)
    Shop.objects.filter(pk=shop.pk).update(
        access_token_expires_at=timezone.now() - timedelta(minutes=1),
        refresh_token_expires_at=timezone.now() - timedelta(seconds=1))
    shop.refresh_from_db()
    with pytest.raises(ReauthRequired):
        tokens.access_token(shop=shop)
    stored = Shop.objects.get(pk=shop.pk)
    assert stored.auth_state == Shop.AuthState.NEEDS_REAUTH
    assert stored.auth_state_changed_at is not None
    assert scripted_shopify.count("refresh_token") == 0
    with pytest.raises(ReauthRequired):  # and stays so, without another request
        tokens.access_token(shop=stored)
    assert scripted_shopify.count("refresh_token") == 0


@pytest.mark.django_db
def test_a_reused_refresh_token_is_refused_and_the_shop_needs_reauth(
        scripted_shopify: ScriptedShopify) -> None:
    shop = _installed(scripted_shopify)
    stale = Shop.objects.get(pk=shop.pk)  # a copy of the row before the rotation
    _expire_access(shop)
    tokens.access_token(shop=shop)
    AdminClient(shop).run(SHOP_INFO)  # the new refresh token's pair is in use
    # Someone restores the old pair (a backup, a lost write): its refresh token is spent.
    Shop.objects.filter(pk=shop.pk).update(
        refresh_token_encrypted=stale.refresh_token_encrypted,
        access_token_expires_at=timezone.now())
    shop.refresh_from_db()
    with pytest.raises(ReauthRequired):
        tokens.access_token(shop=shop)
    assert Shop.objects.get(pk=shop.pk).auth_state == Shop.AuthState.NEEDS_REAUTH


@pytest.mark.django_db
def test_a_lost_refresh_answer_changes_nothing_and_the_retry_succeeds(
        scripted_shopify: ScriptedShopify, settings: Any) -> None:
    shop = _installed(scripted_shopify)
    _expire_access(shop)
    before = Shop.objects.get(pk=shop.pk)
    settings.SHOPIFY_TIMEOUT_SECONDS = 0.2
    scripted_shopify.script.refresh_delay = 0.6  # Shopify rotates; the answer never arrives
    with pytest.raises(ShopifyUnavailable):
        tokens.access_token(shop=shop)
    after = Shop.objects.get(pk=shop.pk)
    assert after.refresh_token_encrypted == before.refresh_token_encrypted
    assert after.auth_state == Shop.AuthState.OK
    scripted_shopify.wait_refreshed(1)  # Shopify did rotate; only its answer was lost
    scripted_shopify.script.refresh_delay = 0.0
    token = tokens.access_token(shop=after)  # the previous refresh token is still retryable
    assert token == scripted_shopify.shops[DOMAIN].access


@pytest.mark.django_db
def test_tokens_forget_erases_every_token_field(scripted_shopify: ScriptedShopify) -> None:
    shop = _installed(scripted_shopify)
    tokens.tokens_forget(shop=shop)
    stored = Shop.objects.get(pk=shop.pk)
    assert (stored.access_token_encrypted, stored.refresh_token_encrypted,
            stored.granted_scopes) == ("", "", "")
    assert stored.access_token_expires_at is None and stored.refresh_token_expires_at is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_send_one_refresh_and_keep_the_shop(
        scripted_shopify: ScriptedShopify) -> None:
    shop = _installed(scripted_shopify)
    _expire_access(shop)
    scripted_shopify.script.refresh_delay = 0.3  # the first refresh is in flight a while
    start = threading.Barrier(2)
    results: dict[str, Any] = {}

    def worker(name: str) -> None:
        try:
            mine = Shop.objects.get(pk=shop.pk)  # each worker read the expiring row itself
            start.wait()
            results[name] = tokens.access_token(shop=mine)
        except Exception as error:  # reported by the assertion below
            results[name] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert scripted_shopify.count("refresh_token") == 1
    current = scripted_shopify.shops[DOMAIN].access
    assert results == {"a": current, "b": current}
    stored = Shop.objects.get(pk=shop.pk)
    assert stored.get_access_token() == current
    assert stored.get_refresh_token() == scripted_shopify.shops[DOMAIN].refresh
    assert stored.auth_state == Shop.AuthState.OK


@pytest.mark.django_db
def test_no_token_reaches_a_log_or_an_error(scripted_shopify: ScriptedShopify, settings: Any,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shop = _installed(scripted_shopify)
    _expire_access(shop)
    tokens.access_token(shop=shop)  # a refresh
    settings.SHOPIFY_TIMEOUT_SECONDS = 0.2
    scripted_shopify.script.refresh_delay = 0.6
    _expire_access(shop)
    with pytest.raises(ShopifyUnavailable) as lost:
        tokens.access_token(shop=shop)
    scripted_shopify.wait_refreshed(2)
    scripted_shopify.script.always_401 = True
    scripted_shopify.script.refresh_delay = 0.0
    with pytest.raises(ReauthRequired) as refused:
        AdminClient(shop).run(SHOP_INFO)
    texts = [caplog.text, repr(shop), repr(AdminClient(shop))]
    for error in (lost.value, refused.value):
        texts.append("".join(traceback.format_exception(error)))
    assert scripted_shopify.issued
    for token in scripted_shopify.issued:
        assert not any(token in text for text in texts), "a token leaked"
