"""The call log support reads: probes labelled as probes, each call linked to every record it
carried (one INSERT for a batch), what was sent kept without the key or the contacts, and the
fix sentence stored with the error."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations.klaviyo.client import Attempt
from integrations.klaviyo.errors import ErrorItem, KlaviyoBadRequestError
from integrations.klaviyo.messages import sentence_for
from integrations.klaviyo.models import SyncAttempt, SyncAttemptSubscription
from integrations.klaviyo.services import attempt_recorder
from notifyme.privacy.reports import report_counts, shopper_report
from notifyme.privacy.subjects import Subject
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import make_shop
from tests.support_shoppers.conftest import Store

pytestmark = pytest.mark.django_db


def test_connect_labels_its_permission_probes_so_they_do_not_look_like_failures(
    client: Client, klaviyo_sandbox: SandboxHandle, bearer: Any,
) -> None:
    shop = make_shop()
    _, key = klaviyo_sandbox.new_account("Probe Store")
    response = client.post("/app/api/klaviyo/connect", {"private_key": key},
                           content_type="application/json", **bearer(shop.domain))
    assert response.status_code == 200, response.content
    calls = SyncAttempt.objects.filter(shop=shop)
    probes = calls.filter(purpose=SyncAttempt.Purpose.PROBE)
    assert set(probes.values_list("operation", flat=True)) >= {
        "verify_profiles_write", "verify_events_write", "verify_lists_write",
        "verify_subscriptions_write"}
    assert all(p.operation.startswith("verify_") for p in probes)
    refused = [p for p in probes if (p.status_code or 0) >= 400]
    assert len(refused) >= 4  # the invalid bodies were refused after the scope check passed
    assert all(p.ok and p.expected_refusal and not p.fix for p in refused)
    checks = calls.exclude(purpose=SyncAttempt.Purpose.PROBE)
    assert set(checks.values_list("purpose", flat=True)) == {SyncAttempt.Purpose.CONNECT}
    assert "get_accounts" in set(checks.values_list("operation", flat=True))
    for row in calls.values():
        assert key not in str(row) and key[-20:] not in str(row)


def test_a_missing_scope_probe_is_a_probe_that_failed(
    client: Client, klaviyo_sandbox: SandboxHandle, bearer: Any,
) -> None:
    shop = make_shop()
    _, key = klaviyo_sandbox.new_account("Thin Key", scopes=[
        "accounts:read", "profiles:read", "profiles:write", "lists:read", "lists:write",
        "subscriptions:write"])
    response = client.post("/app/api/klaviyo/connect", {"private_key": key},
                           content_type="application/json", **bearer(shop.domain))
    assert response.status_code == 422  # the key is refused, naming the missing scope
    failed = SyncAttempt.objects.get(shop=shop, operation="verify_events_write")
    assert failed.purpose == SyncAttempt.Purpose.PROBE and failed.status_code == 403
    assert not failed.ok and not failed.expected_refusal
    assert "events:write" in failed.fix  # the merchant sentence names the missing scope


def test_a_batch_of_1000_records_adds_one_insert_for_its_links(db: None) -> None:
    shop = make_shop()
    ids = list(range(10_001, 11_001))
    record = attempt_recorder(shop=shop, subscription_ids=ids)
    error = KlaviyoBadRequestError(status=400, errors=[ErrorItem(
        code="invalid", detail="Invalid email address.", pointer="/data/3/attributes/email")])
    with CaptureQueriesContext(connection) as queries:
        record(Attempt("bulk_create_events", "POST", "/api/event-bulk-create-jobs", 400, 12,
                       records=1000, error=error,
                       request='{"email":"ada@example.com","phone_number":"+14155550123"}'))
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 2  # the attempt, then all 1,000 links in one statement
    attempt = SyncAttempt.objects.get(shop=shop)
    assert sorted(SyncAttemptSubscription.objects.filter(attempt=attempt)
                  .values_list("subscription_id", flat=True)) == ids
    assert attempt.subscription_id is None  # many records: no single owner
    assert attempt.fix == sentence_for(error)
    assert "ada@example.com" not in attempt.request_summary
    assert "+14155550123" not in attempt.request_summary


def test_the_sync_links_each_batch_call_to_each_record_it_carried(store: Store) -> None:
    subs = [store.signup({"email": f"shopper{i}@example.com", "marketing_consent": True,
                          "consent_text_version": "v1"}) for i in range(4)]
    store.sync()
    for operation in ("add_profiles_to_list", "bulk_subscribe", "bulk_create_events"):
        attempt = SyncAttempt.objects.get(shop=store.shop, operation=operation)
        carried = set(attempt.links.values_list("subscription_id", flat=True))
        assert carried == {s.pk for s in subs}, operation
        assert attempt.request_summary and "shopper" not in attempt.request_summary


def test_the_subscription_admin_is_read_only_and_links_to_everything_about_it(
    store: Store, admin_client: Client,
) -> None:
    mine = store.signup({"email": "ada@example.com"})
    store.signup({"email": "grace@example.com"})
    store.sync()
    page = admin_client.get(f"/admin/subscriptions/subscription/{mine.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="email"' not in html and 'type="submit" value="Save"' not in html
    assert f'href="/support/shoppers/{mine.pk}/"' in html
    calls_link = f"/admin/klaviyo/syncattempt/?links__subscription_id={mine.pk}"
    assert calls_link in html
    assert f"/admin/restocks/restockdelivery/?subscription__id__exact={mine.pk}" in html
    assert f"/admin/sync/outboxitem/?subscription__id__exact={mine.pk}" in html
    calls = admin_client.get(calls_link)
    assert calls.status_code == 200
    listed = calls.content.decode()
    batch = SyncAttempt.objects.get(shop=store.shop, operation="add_profiles_to_list")
    assert batch.records == 2 and f"/admin/klaviyo/syncattempt/{batch.pk}/change/" in listed
    connect_call = SyncAttempt.objects.filter(shop=store.shop, purpose="probe").first()
    assert connect_call is not None
    assert f"/admin/klaviyo/syncattempt/{connect_call.pk}/change/" not in listed


def test_a_data_request_report_lists_the_batch_calls_that_carried_the_shopper(
    store: Store,
) -> None:
    ada = store.signup({"email": "ada@example.com"})
    store.signup({"email": "grace@example.com"})
    store.sync()
    report = shopper_report(shop=store.shop,
                            subject=Subject(customer_id=None, email="ada@example.com", phone=""))
    [entry] = report["subscriptions"]
    assert entry["id"] == ada.pk
    operations = {call["operation"] for call in entry["klaviyo_calls"]}
    assert {"add_profiles_to_list", "bulk_create_events"} <= operations
    assert report_counts(shop=store.shop, subject=Subject(
        customer_id=None, email="ada@example.com", phone=""))["sync_attempts"] == len(
        entry["klaviyo_calls"])
