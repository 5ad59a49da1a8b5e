"""Every error kind of the catalogue, injected through the sandboxes along the real code paths,
shows its catalogue sentence on the health board and (where it concerns a shopper) on that
shopper's timeline.

The test is parametrized over `catalogue.ENTRIES`, so a new kind fails it until it gets an
injection here, or a reason in `NOT_INJECTED` why no sandbox can produce it where the board
or a timeline reads (e.g. answered in the connect form and never stored).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils.html import escape

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.models import KlaviyoConnection
from integrations.shopify import tokens
from integrations.shopify.client import AdminClient
from integrations.shopify.documents import SHOP_INFO
from integrations.shopify.errors import ReauthRequired
from notifyme.subscriptions.models import Subscription
from notifyme.support import catalogue
from notifyme.sync import engine
from notifyme.sync.flow_checks import flow_check_job
from tests.fixtures.shopify import signed_webhook
from tests.fixtures.shopify_scripted import ScriptedShopify
from tests.support.test_board import _row_html
from tests.support_shoppers.conftest import SHOPPERS, Store, text_of

pytestmark = pytest.mark.django_db

#: Scopes of a key that can do everything but write profiles.
NO_PROFILE_WRITE = ["accounts:read", "lists:read", "lists:write", "profiles:read",
                    "events:write", "subscriptions:write"]


@dataclass
class World:
    store: Store
    scripted: ScriptedShopify


Inject = Callable[[World], "Subscription | None"]


def _sync_once(store: Store) -> None:
    """One run of the shop's realtime sync job, as a worker runs it (no retries drained)."""
    engine.run_shop(store.shop.pk, "sync")


def _klaviyo_fault(**faults: object) -> Inject:
    def inject(world: World) -> Subscription:
        sub = world.store.signup({"email": "ada@example.com"})
        world.store.sandbox.admin.set_faults(world.store.klaviyo.account_id, **faults)
        _sync_once(world.store)
        return sub
    return inject


def _revoked(world: World) -> Subscription:
    sub = world.store.signup({"email": "ada@example.com"})
    world.store.sandbox.admin.revoke_key(world.store.klaviyo.key)
    _sync_once(world.store)
    return sub


def _scope_removed(world: World) -> Subscription:
    sub = world.store.signup({"email": "ada@example.com"})
    world.store.sandbox.admin.set_key_scopes(world.store.klaviyo.key, NO_PROFILE_WRITE)
    _sync_once(world.store)
    return sub


def _list_deleted(world: World) -> Subscription:
    sub = world.store.signup({"email": "ada@example.com"})
    k = world.store.klaviyo
    world.store.sandbox.admin.delete_list(k.account_id, k.list_id)
    _sync_once(world.store)
    return sub


def _invalid_phone(world: World) -> Subscription:
    sub = world.store.signup({"phone": "+1 415 555 0123", "sms_consent": True,
                              "sms_consent_text_version": "sms-v2"})
    # Signup validation refuses such a number; a record Klaviyo rejects is what is injected.
    Subscription.objects.filter(pk=sub.pk).update(phone="+01415555012")
    world.store.sync()
    return sub


def _duplicate_profile(world: World) -> Subscription:
    client = KlaviyoClient(world.store.klaviyo.key)  # email and phone already have profiles
    client.upsert_profile({"email": "dana@shop.test"})
    client.upsert_profile({"phone_number": "+14155550199"})
    sub = world.store.signup({"email": "dana@shop.test", "phone": "+14155550199",
                              "sms_consent": True, "sms_consent_text_version": "sms-v2"})
    _sync_once(world.store)
    return sub


def _no_live_flow(world: World) -> Subscription:
    """Alerts go out (Klaviyo accepts the events) while the merchant's flow is still a draft;
    the hourly flow check (its job, as the sweeper enqueues it) sees it."""
    store = world.store
    sub = store.signup({"email": "ada@example.com"})
    store.sync()
    store.restock(5)
    store.sandbox.admin.set_flow(store.klaviyo.account_id, status="draft")
    assert flow_check_job(store.shop.pk) == "not_live"
    return sub


def _forged_webhook(world: World) -> None:
    body, headers = signed_webhook("inventory_levels/update", {"inventory_item_id": 1},
                                   shop_domain=world.store.shop.domain, secret="forged")
    assert Client().post("/webhooks/shopify", body, content_type="application/json",
                         **headers).status_code == 401


def _unparseable_webhook(world: World) -> None:
    body, headers = signed_webhook("inventory_levels/update", None,
                                   shop_domain=world.store.shop.domain, raw=b"not json")
    assert Client().post("/webhooks/shopify", body, content_type="application/json",
                         **headers).status_code == 200


def _token_refused(world: World) -> None:
    shop = world.store.shop
    tokens.tokens_store(shop=shop, grant=tokens.token_exchange(shop_domain=shop.domain,
                                                               id_token="id"))
    world.scripted.script.always_401 = True  # Shopify refuses the token and its refresh
    with pytest.raises(ReauthRequired):
        AdminClient(shop).run(SHOP_INFO)


def _uninstalled(world: World) -> None:
    world.store.webhook("app/uninstalled", {"id": 1, "domain": world.store.shop.domain})


INJECT: dict[tuple[str, str], Inject] = {
    ("klaviyo", "invalid_key"): _revoked,
    ("klaviyo", "missing_scopes"): _scope_removed,
    ("klaviyo", "not_found"): _list_deleted,
    ("klaviyo", "invalid_phone"): _invalid_phone,
    ("klaviyo", "duplicate_profile"): _duplicate_profile,
    ("klaviyo", "rate_limited"): _klaviyo_fault(next_errors=[429], retry_after_seconds=30),
    ("klaviyo", "unavailable"): _klaviyo_fault(next_errors=[503]),
    ("klaviyo", "edge_blocked"): _klaviyo_fault(html_403_next=1),
    ("klaviyo", "bad_request"): _klaviyo_fault(next_errors=[400]),
    ("klaviyo", "flow_not_live"): _no_live_flow,
    ("webhook", "invalid_signature"): _forged_webhook,
    ("webhook", "bad_payload"): _unparseable_webhook,
    ("shop", "needs_reauth"): _token_refused,
    ("shop", "uninstalled"): _uninstalled,
}

_CONNECT_FORM = ("answered in the connect form before anything is stored "
                 "(tests/klaviyo_connection covers the sentence)")
_SHOPIFY_CLIENT = ("a ShopifyError kind: the board reads shops, calls to Klaviyo and webhooks, "
                   "so a Shopify API failure reaches it only as shop/needs_reauth or a webhook "
                   "kind")
NOT_INJECTED: dict[tuple[str, str], str] = {
    **{("klaviyo", k): _CONNECT_FORM for k in (
        "empty_key", "public_key", "invalid_format", "list_invalid_format", "list_not_found",
        "klaviyo_unavailable")},
    ("klaviyo", "forbidden"): "the sandbox has no plan-gated feature to refuse",
    ("klaviyo", "decrypt_failed"): "a key-ring misconfiguration on our side, no sandbox call",
    ("klaviyo", "not_connected"): "a state (no key), not a failure a sandbox returns",
    ("klaviyo", "invalid_email"): "signup validation refuses any address Klaviyo would",
    ("klaviyo", "phone_conflict"): ("resent without the phone and synced: no failed record "
                                    "stays to show"),
    ("klaviyo", "revision_retiring"): "a date (tests/support/test_revision.py)",
    ("klaviyo", "unknown"): "the fallback of an unclassified answer",
    **{("shopify", k): _SHOPIFY_CLIENT for k in catalogue._SHOPIFY},
    ("webhook", "handler_failed"): "needs a handler bug; none is injectable from outside",
    ("webhook", "retries_exhausted"): "needs the retry budget spent (tests/webhooks)",
    ("webhook", "needs_reauth"): "covered by shop/needs_reauth, same sentence",
    ("webhook", "unknown"): "the fallback of a failed event without an error",
    ("shop", "no_grant"): "a state of an unfinished install, no sandbox call",
    ("shop", "refresh_expired"): "a stored expiry date in the past, no sandbox call",
    ("shop", "backlog_stalled"): "time passing without workers (tests/support/test_board.py)",
    ("shop", "webhook_lag"): "time passing without workers (tests/support/test_board.py)",
}


def test_every_kind_is_either_injected_or_says_why_not() -> None:
    assert not set(INJECT) & set(NOT_INJECTED)
    assert set(INJECT) | set(NOT_INJECTED) == set(catalogue.ENTRIES)


def _board_sentences(store: Store, kind: str) -> list[str]:
    """What the board may say for the kind: its catalogue fix, or for a halted connection the
    connection's own sentence (the same fix, naming e.g. the missing scopes)."""
    found = [catalogue.ENTRIES[("klaviyo", kind)].fix] if ("klaviyo", kind) in \
        catalogue.ENTRIES else []
    connection = KlaviyoConnection.objects.filter(shop=store.shop).first()
    if connection and connection.last_error_kind == kind and connection.last_error_message:
        found.append(connection.last_error_message)
    return found


@pytest.mark.parametrize("key", sorted(catalogue.ENTRIES), ids="/".join)
def test_each_kind_shows_its_sentence_on_the_board_and_the_timeline(
        key: tuple[str, str], store: Store, scripted_shopify: ScriptedShopify,
        admin_client: Client) -> None:
    if key not in INJECT:
        if key in NOT_INJECTED:
            pytest.skip(NOT_INJECTED[key])
        pytest.fail(f"{'/'.join(key)} has no injection: add one to INJECT (or a reason to "
                    "NOT_INJECTED)")
    source, kind = key
    found = catalogue.ENTRIES[key]
    shopper = INJECT[key](World(store, scripted_shopify))

    board = admin_client.get("/support/", {"q": store.shop.domain}).content.decode()
    row = _row_html(board, store.shop.domain)
    assert f'href="{found.url}"' in row, row
    sentences = _board_sentences(store, kind) if source == "klaviyo" else [found.fix]
    assert any(escape(s) in row for s in sentences), (sentences, row)
    shop_page = admin_client.get(f"/support/shops/{store.shop.domain}/").content.decode()
    assert escape(found.explanation) in shop_page or f"{source}/{kind}" in shop_page

    if shopper is not None:
        text = text_of(admin_client.get(f"{SHOPPERS}{shopper.pk}/").content.decode())
        assert f"Fix: {found.fix}" in text, text[-3000:]
