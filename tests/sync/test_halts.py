"""401/403 halt the merchant (nothing lost) and the backlog resumes after a reconnect."""

from __future__ import annotations

import django_rq

from integrations.klaviyo.messages import sentence_for
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import connection_connect, connection_retest
from notifyme.subscriptions.models import Subscription
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem

from .conftest import Merchant, add_subscribers, drain, states


def _assert_halted_untouched(merchant: Merchant, kind: str, count: int) -> KlaviyoConnection:
    connection = KlaviyoConnection.objects.get(shop=merchant.shop)
    assert connection.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    assert connection.last_error_kind == kind
    rows = list(OutboxItem.objects.filter(shop=merchant.shop))
    assert len(rows) == count
    assert {(r.state, r.attempts, r.leased_until) for r in rows} == {("pending", 0, None)}
    assert Subscription.objects.filter(sync_state="pending").count() == count
    return connection


def test_revoked_key_halts_and_reconnect_drains_the_backlog(
    merchant: Merchant, django_capture_on_commit_callbacks, settings,
) -> None:
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    add_subscribers(merchant, 40, consent=True)
    merchant.admin.revoke_key(merchant.key)
    summary = engine.run_shop(merchant.shop.pk, "bulk")
    assert summary["halted"] is True
    connection = _assert_halted_untouched(merchant, "invalid_key", 40)
    assert connection.last_error_message == sentence_for("invalid_key")
    # While halted, jobs leave the rows alone.
    assert engine.run_shop(merchant.shop.pk, "bulk") == {"skipped": "not syncing"}
    # The merchant pastes a new key: connect verifies it and nudges the sync on commit.
    new_key = merchant.admin.create_key(merchant.account_id, "all")
    with django_capture_on_commit_callbacks(execute=True):
        connection_connect(shop=merchant.shop, private_key=new_key,
                           list_id=merchant.list_id)
    queued = django_rq.get_queue("sync").job_ids
    assert len(queued) == 1 and f"-{merchant.shop.pk}-" in queued[0]
    drain(merchant.shop.pk)
    assert states(merchant.shop.pk) == {"done": 40}
    assert merchant.stats()["subscriptions"] == 40
    assert len(merchant.members()) == 40


def test_missing_scope_halts_with_the_scope_named(merchant: Merchant) -> None:
    add_subscribers(merchant, 2)
    scopes = ["accounts:read", "lists:read", "lists:write", "profiles:read", "events:write",
              "subscriptions:write"]  # no profiles:write
    merchant.admin.set_key_scopes(merchant.key, scopes)
    assert engine.run_shop(merchant.shop.pk, "sync")["halted"] is True
    connection = _assert_halted_untouched(merchant, "missing_scopes", 2)
    assert "profiles:write" in connection.last_error_message
    merchant.admin.set_key_scopes(merchant.key, "all")
    connection_retest(shop=merchant.shop)  # the merchant's "Test again" after fixing the key
    drain(merchant.shop.pk, lane="sync")
    assert states(merchant.shop.pk) == {"done": 2}


def test_edge_block_is_waited_out_not_halted(merchant: Merchant) -> None:
    add_subscribers(merchant, 1)
    merchant.admin.set_faults(merchant.account_id, html_403_next=1)
    engine.run_shop(merchant.shop.pk, "sync")
    connection = KlaviyoConnection.objects.get(shop=merchant.shop)
    assert connection.status == KlaviyoConnection.Status.CONNECTED
    item = OutboxItem.objects.get(shop=merchant.shop)
    assert (item.state, item.attempts) == ("pending", 1)
    drain(merchant.shop.pk, lane="sync")
    assert states(merchant.shop.pk) == {"done": 1}
