"""`customers/redact`: the shopper's rows go — matched by customer id, email and phone — and so do
their Redis counters; nothing of them is left in any table, in Redis or in the logs; Klaviyo is
asked to delete the profile when the key may, else told to unsubscribe and the merchant is told
what remains; the audit row stays, without personal data; another shop's shopper is untouched."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.scopes import ALL_REQUIRED
from notifyme.privacy.models import ComplianceRequest, KlaviyoErasure
from notifyme.privacy.subjects import PayloadError, subject_from_payload
from notifyme.subscriptions.models import Subscription
from tests.factories import subscription_make
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import id_token, make_shop, make_variant
from tests.privacy.conftest import (
    CUSTOMER_ID,
    EMAIL,
    OTHER_EMAIL,
    PHONE,
    SHOPPER_PAYLOAD,
    Store,
    contact_keys,
    deliver,
    run_erasures,
    scan_database,
    scan_redis,
    shopper_everywhere,
)

pytestmark = pytest.mark.django_db(transaction=True)
NEEDLES = (EMAIL, PHONE, "Lovelace", str(CUSTOMER_ID))


def _redact(store: Store) -> str:
    return deliver("customers/redact", {"shop_id": 1, "customer": SHOPPER_PAYLOAD,
                                        "orders_to_redact": [1, 2]},
                   shop_domain=store.shop.domain)


def test_redact_leaves_nothing_of_the_shopper_and_klaviyo_deletes_the_profile(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    other_shop = make_shop("other-shop.myshopify.com")
    elsewhere = subscription_make(other_shop, make_variant(other_shop), email=EMAIL)
    profile_id = Subscription.objects.get(pk=store.subs[0].pk).klaviyo_profile_id
    assert profile_id and contact_keys(store.shop, EMAIL, PHONE)
    assert scan_database(EMAIL)  # the scanner sees the shopper before the erasure

    outcome = _redact(store)
    assert run_erasures() == ["deletion_requested"]

    assert not scan_database(*NEEDLES, ignore=(elsewhere,))
    assert Subscription.objects.filter(pk=elsewhere.pk, email=EMAIL).exists()  # other shop
    assert not Subscription.objects.filter(shop=store.shop, email=EMAIL).exists()
    assert not Subscription.objects.filter(shop=store.shop, phone=PHONE).exists()
    assert Subscription.objects.filter(shop=store.shop, email=OTHER_EMAIL).exists()
    assert not contact_keys(store.shop, EMAIL, PHONE) and not scan_redis(*NEEDLES)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [n for n in NEEDLES if n.lower() in logged.lower()]
    assert EMAIL not in outcome and PHONE not in outcome

    audit = ComplianceRequest.objects.get(topic="customers/redact")
    assert audit.state == ComplianceRequest.State.COMPLETED and audit.completed_at
    assert audit.klaviyo_outcome == ComplianceRequest.KlaviyoOutcome.DELETION_REQUESTED
    assert audit.counts["subscriptions"] == 2 and audit.counts["consent_records"] == 2
    assert audit.counts["restock_deliveries"] == 1 and audit.counts["redis_keys"] == 2
    assert audit.counts["sync_attempts"] >= 1 and audit.merchant_notice == ""
    assert audit.subject_digest and EMAIL not in audit.subject_digest

    deletions = store.sandbox.admin.deletions(store.account_id)
    assert [d["identifier"] for d in deletions] == ["id", "email", "phone_number"]
    assert deletions[0]["profile_ids"] == [profile_id]
    profiles = store.sandbox.admin.profiles(store.account_id)
    assert profile_id not in {p["id"] for p in profiles}
    assert EMAIL not in {p["email"] for p in profiles} and len(profiles) == 1  # Grace stays


def test_without_the_data_privacy_scope_the_shopper_is_unsubscribed_and_the_merchant_told(
        db: None, klaviyo_sandbox: SandboxHandle, client: Client) -> None:
    store = shopper_everywhere(klaviyo_sandbox, scopes=list(ALL_REQUIRED))
    assert "data-privacy:write" not in store.shop.klaviyo_connection.scopes_verified
    profile_id = Subscription.objects.get(pk=store.subs[0].pk).klaviyo_profile_id

    _redact(store)
    assert run_erasures() == ["unsubscribed"]

    assert not klaviyo_sandbox.admin.deletions(store.account_id)
    unsubscribed = {u["channel"] for u in klaviyo_sandbox.admin.unsubscriptions(store.account_id)
                    if u["profile_id"] == profile_id}
    assert unsubscribed == {"email", "sms"}
    members = klaviyo_sandbox.admin.list_members(store.account_id, store.connected.list_id)
    assert profile_id not in members
    audit = ComplianceRequest.objects.get(topic="customers/redact")
    assert audit.klaviyo_outcome == ComplianceRequest.KlaviyoOutcome.UNSUBSCRIBED
    assert profile_id in audit.merchant_notice and "data-privacy:write" in audit.merchant_notice
    assert not [h for h in scan_database(*NEEDLES)]

    headers = {"HTTP_AUTHORIZATION": f"Bearer {id_token(store.shop.domain)}"}
    body = client.get("/app/api/privacy", **headers).json()
    assert body["notices"][0]["notice"] == audit.merchant_notice
    page = client.get("/app/", {"id_token": id_token(store.shop.domain),
                                "shop": store.shop.domain, "embedded": "1"})
    assert "Action needed" in page.content.decode() and profile_id in page.content.decode()


def test_a_scope_removed_since_the_connect_falls_back_without_halting_the_sync(
        store: Store) -> None:
    store.sandbox.admin.set_key_scopes(store.connected.key, list(ALL_REQUIRED))
    _redact(store)
    assert run_erasures() == ["unsubscribed"]
    connection = KlaviyoConnection.objects.get(shop=store.shop)
    assert connection.status == KlaviyoConnection.Status.CONNECTED
    assert "data-privacy:write" not in connection.scopes_verified


def test_a_redelivery_changes_nothing(store: Store) -> None:
    _redact(store)
    run_erasures()
    again = _redact(store)
    assert "0 subscriptions erased" in again
    audit = ComplianceRequest.objects.get(topic="customers/redact")
    assert audit.deliveries == 2 and audit.counts["subscriptions"] == 2
    assert KlaviyoErasure.objects.count() == 1
    assert len(store.sandbox.admin.deletions(store.account_id)) == 3


def test_a_klaviyo_outage_retries_the_erasure(store: Store, settings: Any) -> None:
    store.sandbox.admin.set_faults(store.account_id, next_errors=[503])
    _redact(store)
    assert run_erasures()[0].startswith("retry")
    erasure = KlaviyoErasure.objects.get()
    assert erasure.state == KlaviyoErasure.State.PENDING and erasure.contact_encrypted
    assert EMAIL not in erasure.contact_encrypted  # held encrypted until it goes
    KlaviyoErasure.objects.update(available_at=erasure.created_at)  # the backoff is over
    assert run_erasures() == ["deletion_requested"]
    assert KlaviyoErasure.objects.get().contact_encrypted == ""


def test_a_shopper_known_only_by_email_is_matched_in_any_spelling(store: Store) -> None:
    deliver("customers/redact", {"customer": {"id": None, "email": " ADA.LOVELACE@example.COM ",
                                              "phone": None}}, shop_domain=store.shop.domain)
    run_erasures()
    assert not Subscription.objects.filter(shop=store.shop, email=EMAIL).exists()
    # The phone-only alert names neither this email nor a customer id: it is another record.
    assert Subscription.objects.filter(shop=store.shop, phone=PHONE).count() == 1


def test_a_request_naming_nobody_is_refused_with_the_field() -> None:
    with pytest.raises(PayloadError) as refused:
        subject_from_payload({"customer": {"id": None, "email": "", "phone": None}})
    assert refused.value.field == "customer"
    with pytest.raises(PayloadError) as refused:
        subject_from_payload({"customer": {"id": "abc"}})
    assert refused.value.field == "customer.id"
