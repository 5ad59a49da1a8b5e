"""Retry with preview, end to end: a signup's sync and a restock's alert fail against the real
Klaviyo sandbox because of an injected fault; staff preview the retry (records, operations,
the exact bodies), fix the fault, retry, a real worker runs the pipeline, and the sandbox holds
the profile and the event exactly once. Every action is audited with who and when."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from integrations.klaviyo import bodies
from integrations.klaviyo.scopes import ALL_REQUIRED
from integrations.klaviyo.services import connection_connect
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.fanout import fanout_send_chunk
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.services import detection_of
from notifyme.subscriptions.models import Subscription
from notifyme.support.models import SupportAction
from notifyme.support.retry_plan import PROFILE_ID_FROM_CALL
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem
from notifyme.sync.profile_fields import SUBSCRIBED_METRIC
from tests.factories import klaviyo_connect, shop_make, subscription_make, variant_make
from tests.fixtures.sandbox import SandboxHandle

from .conftest import post

DOMAIN = "retry-shop.myshopify.com"
JSON = {"HTTP_ACCEPT": "application/json"}


def _url(name: str) -> str:
    return f"/support/shops/{DOMAIN}/{name}"


def _sent_sizes(sandbox: SandboxHandle, account_id: str, since: int) -> list[tuple[str, int]]:
    return [(r["path"], r["body_size"]) for r in sandbox.admin.requests(account_id)[since:]
            if r["status"] < 300 and r["method"] != "GET"]


@pytest.fixture
def failing_signup(transactional_db: None, klaviyo_sandbox: SandboxHandle) -> dict[str, Any]:
    """A connected shop whose profile upserts Klaviyo refuses (400, every time): one signup
    synced by the pipeline fails."""
    shop = shop_make(DOMAIN)
    variant = variant_make(shop, quantity=0)
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    klaviyo_sandbox.admin.set_faults(connected.account_id, error_rate=1.0,
                                     error_statuses=[400], path_prefix="/api/profile-import")
    sub = subscription_make(shop, variant, email="jane@example.com", marketing_consent=True,
                            consent_text_version="v1")
    engine.run_shop(shop.pk, "sync")
    item = OutboxItem.objects.get(subscription=sub)
    assert item.state == OutboxItem.State.FAILED
    return {"shop": shop, "variant": variant, "sub": sub, "item": item, "connected": connected}


def test_preview_fix_retry_sends_the_previewed_bodies_once(
    failing_signup: dict[str, Any], klaviyo_sandbox: SandboxHandle, staff: Client,
    staff_user: User, jobs: Any,
) -> None:
    item, sub = failing_signup["item"], failing_signup["sub"]
    connected = failing_signup["connected"]
    ref = f"sync-{item.pk}"
    # The preview page: the record, why it failed, every call with its body; never the key.
    page = staff.get(_url("retry/preview"), {"record": ref})
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-record="{ref}"' in html and "jane@example.com" in html
    assert "profile_import" in html and "bulk_subscribe" in html and "create_event" in html
    assert connected.key not in html and connected.key[-12:] not in html
    preview = staff.get(_url("retry/preview"), {"record": ref}, **JSON).json()["preview"]
    assert [r["ref"] for r in preview["records"]] == [ref]
    assert preview["records"][0]["failed_because"]  # Klaviyo's detail, shown
    operations = [c["operation"] for c in preview["calls"]]
    assert operations == ["profile_import", "add_profiles_to_list", "bulk_subscribe",
                          "create_event"]
    event = preview["calls"][-1]["body"]["data"]["attributes"]
    assert event["metric"]["data"]["attributes"]["name"] == SUBSCRIBED_METRIC
    assert event["unique_id"] == f"notifyme:subscribed:{sub.pk}"
    assert event["profile"]["data"]["attributes"] == {"email": "jane@example.com"}
    # Nothing was written by previewing.
    assert not SupportAction.objects.exists()
    assert OutboxItem.objects.get(pk=item.pk).state == OutboxItem.State.FAILED

    # The fix: Klaviyo accepts profiles again. Then the retry of exactly the previewed set.
    klaviyo_sandbox.admin.clear_faults(connected.account_id)
    since = len(klaviyo_sandbox.admin.requests(connected.account_id))
    done = post(staff, _url("retry"), {"token": preview["token"], "record": ref}, **JSON)
    assert done.status_code == 202, done.content
    assert done.json()["action"]["counts"]["subscriber_syncs"] == 1
    assert OutboxItem.objects.get(pk=item.pk).state == OutboxItem.State.PENDING
    assert jobs() >= 1  # the retry's nudge, run by a worker
    item.refresh_from_db()
    sub.refresh_from_db()
    assert item.state == OutboxItem.State.DONE
    assert sub.sync_state == Subscription.SyncState.SYNCED
    profiles = [p for p in klaviyo_sandbox.admin.profiles(connected.account_id)
                if p.get("email") == "jane@example.com"]
    assert len(profiles) == 1
    events = klaviyo_sandbox.admin.events(connected.account_id, metric=SUBSCRIBED_METRIC)
    assert [e["unique_id"] for e in events] == [f"notifyme:subscribed:{sub.pk}"]
    # What went out is what the preview showed, byte for byte in size, call for call — once
    # the profile id Klaviyo assigned fills the list call's placeholder.
    sent = _sent_sizes(klaviyo_sandbox, connected.account_id, since)
    assert sub.klaviyo_profile_id
    shown = [(c["path"], len(bodies.encode(c["body"]).replace(
        PROFILE_ID_FROM_CALL.encode(), sub.klaviyo_profile_id.encode())))
        for c in preview["calls"]]
    assert sent == shown
    # Audited: who, when, what, with ids only.
    action = SupportAction.objects.get()
    assert (action.kind, action.outcome) == ("retry", "queued")
    assert action.actor == staff_user and action.actor_username == "sam.support"
    assert action.shop_domain == DOMAIN and action.created_at is not None
    assert action.parameters["records"] == [ref]
    assert "jane@example.com" not in str(action.parameters)
    assert connected.key not in str(action.parameters) + action.detail
    # Nothing failed is left: a second preview is empty.
    again = staff.get(_url("retry/preview"), **JSON).json()["preview"]
    assert again["records"] == [] and again["calls"] == []


def test_retry_refuses_a_set_that_changed_since_the_preview(
    failing_signup: dict[str, Any], klaviyo_sandbox: SandboxHandle, staff: Client,
) -> None:
    shop, variant = failing_signup["shop"], failing_signup["variant"]
    preview = staff.get(_url("retry/preview"), **JSON).json()["preview"]
    assert len(preview["records"]) == 1
    # Another signup fails before the staff member presses "Retry".
    subscription_make(shop, variant, email="second@example.com")
    engine.run_shop(shop.pk, "sync")
    assert OutboxItem.objects.filter(state=OutboxItem.State.FAILED).count() == 2
    stale = post(staff, _url("retry"), {"token": preview["token"]}, **JSON)
    assert stale.status_code == 409
    assert stale.json()["error"]["field"] == "token"
    assert len(stale.json()["preview"]["records"]) == 2  # what a new preview would retry
    assert OutboxItem.objects.filter(state=OutboxItem.State.FAILED).count() == 2
    assert not SupportAction.objects.exists()
    # The HTML answer says so too, with a link to preview again.
    page = post(staff, _url("retry"), {"token": preview["token"]})
    assert page.status_code == 409 and b"Preview the retry again" in page.content


def test_retry_all_through_the_preview_page_form(
    failing_signup: dict[str, Any], klaviyo_sandbox: SandboxHandle, staff: Client,
    jobs: Any,
) -> None:
    """The page's own form: its token and record fields, posted as the browser posts them."""
    connected = failing_signup["connected"]
    klaviyo_sandbox.admin.clear_faults(connected.account_id)
    html = staff.get(_url("retry/preview")).content.decode()
    token = html.split('name="token" value="')[1].split('"')[0]
    record = html.split('name="record" value="')[1].split('"')[0]
    assert record == "all"
    page = post(staff, _url("retry"), {"token": token, "record": record})
    assert page.status_code == 202 and b'data-outcome="queued"' in page.content
    jobs()
    assert OutboxItem.objects.get().state == OutboxItem.State.DONE


def test_a_failed_restock_alert_is_previewed_and_resent_once(
    transactional_db: None, klaviyo_sandbox: SandboxHandle, staff: Client, jobs: Any,
) -> None:
    shop = shop_make(DOMAIN)
    variant = variant_make(shop, quantity=0)
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    subs = [subscription_make(shop, variant, email=f"s{i}@example.com") for i in range(2)]
    jobs()  # their subscriber sync, before anything fails
    klaviyo_sandbox.admin.set_faults(connected.account_id, error_rate=1.0,
                                     error_statuses=[400], path_prefix="/api/event-bulk-create")
    restock = detection_of(variant_update_stock(variant=variant, quantity=5)).restock
    assert restock is not None
    fanout_send_chunk(restock_id=restock.pk)
    restock.refresh_from_db()
    assert (restock.state, restock.failed, restock.sent) == (Restock.State.COMPLETED, 2, 0)
    preview = staff.get(_url("retry/preview"), **JSON).json()["preview"]
    refs = sorted(r["ref"] for r in preview["records"])
    failed_ids = RestockDelivery.objects.filter(state="failed").values_list("id", flat=True)
    assert refs == sorted(f"delivery-{pk}" for pk in failed_ids)
    [call] = preview["calls"]
    assert call["operation"] == "bulk_create_events"
    entries = call["body"]["data"]["attributes"]["events-bulk-create"]["data"]
    assert sorted(e["attributes"]["profile"]["data"]["attributes"]["email"] for e in entries) == [
        "s0@example.com", "s1@example.com"]
    klaviyo_sandbox.admin.clear_faults(connected.account_id)
    since = len(klaviyo_sandbox.admin.requests(connected.account_id))
    done = post(staff, _url("retry"), {"token": preview["token"]}, **JSON)
    assert done.json()["action"]["counts"]["restock_deliveries"] == 2
    restock.refresh_from_db()
    assert (restock.state, restock.failed) == (Restock.State.RUNNING, 0)
    jobs()
    restock.refresh_from_db()
    assert (restock.state, restock.sent, restock.failed) == (Restock.State.COMPLETED, 2, 0)
    events = klaviyo_sandbox.admin.events(connected.account_id, metric="Back in Stock")
    assert sorted(e["unique_id"] for e in events) == sorted(
        f"notifyme:bis:{restock.pk}:{s.pk}" for s in subs)
    sent = [size for path, size in _sent_sizes(klaviyo_sandbox, connected.account_id, since)
            if path.startswith("/api/event-bulk-create")]
    assert sent == [len(bodies.encode(call["body"]))]


def test_a_missing_scope_halts_rather_than_fails_and_the_preview_says_so(
    transactional_db: None, klaviyo_sandbox: SandboxHandle, staff: Client, jobs: Any,
) -> None:
    """A key that lost `events:write`: the signup is not failed but held (the connection
    halts). The preview says nothing needs a retry, why nothing is sent, and how many records
    wait; re-verify confirms the missing scope; a reconnect with a good key sends the held
    record by itself, once."""
    shop = shop_make(DOMAIN)
    variant = variant_make(shop, quantity=0)
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    klaviyo_sandbox.admin.set_key_scopes(
        connected.key, [s for s in ALL_REQUIRED if s != "events:write"])
    sub = subscription_make(shop, variant, email="held@example.com")
    jobs()
    item = OutboxItem.objects.get(subscription=sub)
    assert item.state == OutboxItem.State.PENDING
    preview = staff.get(_url("retry/preview"), **JSON).json()["preview"]
    assert preview["records"] == [] and preview["waiting"] == 1
    assert "not syncing" in preview["blocked"] and "events:write" in preview["blocked"]
    html = staff.get(_url("retry/preview")).content.decode()
    assert "data-waiting" in html and "data-blocked" in html
    check = post(staff, _url("reverify"), **JSON).json()["action"]
    assert check["outcome"] == "failed" and "events:write" in check["detail"]
    # The merchant's fix: a new key with every scope, on the same account.
    good = klaviyo_sandbox.admin.create_key(connected.account_id, "all")
    connection_connect(shop=shop, private_key=good)
    jobs()
    item.refresh_from_db()
    assert item.state == OutboxItem.State.DONE
    events = klaviyo_sandbox.admin.events(connected.account_id, metric=SUBSCRIBED_METRIC)
    assert [e["unique_id"] for e in events] == [f"notifyme:subscribed:{sub.pk}"]
    after = staff.get(_url("retry/preview"), **JSON).json()["preview"]
    assert (after["records"], after["waiting"], after["blocked"]) == ([], 0, "")


def test_retry_all_of_many_records_previews_the_bulk_import_the_pipeline_sends(
    transactional_db: None, klaviyo_sandbox: SandboxHandle, staff: Client, jobs: Any,
    settings: Any,
) -> None:
    """More rows than the one-by-one path takes: their profiles go in one bulk import job,
    which the preview shows with every profile, and which is what is sent."""
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    shop = shop_make(DOMAIN)
    variant = variant_make(shop, quantity=0)
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    klaviyo_sandbox.admin.set_faults(connected.account_id, error_rate=1.0, error_statuses=[400],
                                     path_prefix="/api/profile-bulk-import-jobs")
    subs = [subscription_make(shop, variant, email=f"many{i}@example.com") for i in range(12)]
    jobs()
    assert OutboxItem.objects.filter(state=OutboxItem.State.FAILED).count() == 12
    preview = staff.get(_url("retry/preview"), **JSON).json()["preview"]
    assert len(preview["records"]) == 12
    [call] = preview["calls"]  # the events went through before the import failed
    assert call["operation"] == "bulk_import_profiles"
    profiles = call["body"]["data"]["attributes"]["profiles"]["data"]
    assert sorted(p["attributes"]["email"] for p in profiles) == sorted(s.email for s in subs)
    klaviyo_sandbox.admin.clear_faults(connected.account_id)
    since = len(klaviyo_sandbox.admin.requests(connected.account_id))
    assert post(staff, _url("retry"), {"token": preview["token"]}, **JSON).status_code == 202
    jobs()
    assert OutboxItem.objects.filter(state=OutboxItem.State.DONE).count() == 12
    sent = _sent_sizes(klaviyo_sandbox, connected.account_id, since)
    assert sent == [(call["path"], len(bodies.encode(call["body"])))]
    events = klaviyo_sandbox.admin.events(connected.account_id, metric=SUBSCRIBED_METRIC)
    assert len(events) == 12  # sent once, before the failure; not again
