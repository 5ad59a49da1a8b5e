"""`customers/data_request`: the merchant sees what the app holds on the shopper, in the app and
as a JSON/CSV download, built from the live rows; the audit row names the request only; one
shop never sees another's requests; "provided" forgets the subject; a redact ends the report."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from notifyme.privacy.models import ComplianceRequest
from notifyme.privacy.sweep import privacy_sweep
from tests.fixtures.shopify import id_token, make_shop
from tests.privacy.conftest import (
    CUSTOMER_ID,
    EMAIL,
    PHONE,
    SHOPPER_PAYLOAD,
    Store,
    deliver,
    scan_database,
)

pytestmark = pytest.mark.django_db(transaction=True)
REQUEST = {"shop_id": 1, "orders_requested": [299938, 280263],
           "customer": SHOPPER_PAYLOAD, "data_request": {"id": 9999}}


def _api(client: Client, domain: str, path: str = "", **params: str) -> tuple[int, dict]:
    response = client.get(f"/app/api/privacy{path}", params,
                          HTTP_AUTHORIZATION=f"Bearer {id_token(domain)}")
    body = response.json() if response["Content-Type"].startswith("application/json") else {}
    return response.status_code, body


def test_the_merchant_sees_and_exports_the_report(store: Store, client: Client) -> None:
    outcome = deliver("customers/data_request", REQUEST, shop_domain=store.shop.domain)
    assert "2 subscriptions found" in outcome and EMAIL not in outcome
    audit = ComplianceRequest.objects.get()
    assert audit.shopify_request_id == "9999" and audit.state == ComplianceRequest.State.OPEN
    assert audit.counts["subscriptions"] == 2 and audit.counts["restock_deliveries"] == 1
    assert EMAIL not in json.dumps(audit.counts) and EMAIL not in audit.subject_encrypted

    status, listing = _api(client, store.shop.domain)
    assert status == 200 and listing["requests"][0]["report_available"]
    assert EMAIL not in json.dumps(listing)  # the list is the audit: no personal data
    status, body = _api(client, store.shop.domain, "/report", request=str(audit.pk))
    report = body["report"]
    assert report["subject"] == {"customer_id": CUSTOMER_ID, "email": EMAIL, "phone": PHONE}
    first, scarf = report["subscriptions"]
    assert first["email"] == EMAIL and first["marketing_consent"] and first["sms_consent"]
    assert first["status"] == "notified" and first["restock_alerts"][0]["state"] == "sent"
    assert first["klaviyo_calls"] and first["klaviyo_profile_id"]
    assert scarf["phone"] == PHONE and scarf["email"] == ""

    response = client.get("/app/api/privacy/export", {"request": audit.pk, "format": "csv"},
                          HTTP_AUTHORIZATION=f"Bearer {id_token(store.shop.domain)}")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["request", str(audit.pk), "email", EMAIL] in rows
    response = client.get("/app/api/privacy/export", {"request": audit.pk},
                          HTTP_AUTHORIZATION=f"Bearer {id_token(store.shop.domain)}")
    assert json.loads(response.content)["subscriptions"][0]["email"] == EMAIL


def test_another_shop_cannot_see_the_request_and_bad_input_names_the_field(
        store: Store, client: Client) -> None:
    deliver("customers/data_request", REQUEST, shop_domain=store.shop.domain)
    audit = ComplianceRequest.objects.get()
    other = make_shop("other-shop.myshopify.com")
    status, body = _api(client, other.domain, "/report", request=str(audit.pk))
    assert status == 404 and body["error"]["fields"] == {"request": [body["error"]["message"]]}
    assert _api(client, other.domain)[1] == {"requests": [], "notices": []}
    for bad in ("abc", "", "-1", "9" * 40):
        status, body = _api(client, store.shop.domain, "/report", request=bad)
        assert status == 400 and "request" in body["error"]["fields"]
    status, body = _api(client, store.shop.domain, "/export", request=str(audit.pk),
                        format="xml")
    assert status == 400 and "format" in body["error"]["fields"]
    status, body = _api(client, store.shop.domain, "/report", request=str(audit.pk), x="1")
    assert status == 400 and "x" in body["error"]["fields"]
    response = client.post("/app/api/privacy/report",
                           HTTP_AUTHORIZATION=f"Bearer {id_token(store.shop.domain)}")
    assert response.status_code == 405


def test_marking_it_provided_forgets_the_subject(store: Store, client: Client) -> None:
    deliver("customers/data_request", REQUEST, shop_domain=store.shop.domain)
    audit = ComplianceRequest.objects.get()
    response = client.post("/app/api/privacy/provided", {"request": audit.pk},
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {id_token(store.shop.domain)}")
    assert response.status_code == 200 and response.json()["request"]["provided_at"]
    audit.refresh_from_db()
    assert audit.subject_encrypted == "" and audit.state == ComplianceRequest.State.COMPLETED
    status, body = _api(client, store.shop.domain, "/report", request=str(audit.pk))
    assert status == 404 and body["error"]["code"] == "report_unavailable"


def test_a_redelivery_lands_on_the_same_row_and_a_redact_ends_the_report(
        store: Store, client: Client) -> None:
    deliver("customers/data_request", REQUEST, shop_domain=store.shop.domain,
            webhook_id="wh-1")
    deliver("customers/data_request", REQUEST, shop_domain=store.shop.domain)
    deliver("customers/data_request", REQUEST, shop_domain=store.shop.domain,
            webhook_id="wh-1")  # the same delivery again: the intake stores it once
    audit = ComplianceRequest.objects.get()
    assert audit.deliveries == 2
    deliver("customers/redact", {"customer": {"id": None, "email": EMAIL, "phone": None}},
            shop_domain=store.shop.domain)
    audit.refresh_from_db()
    assert audit.subject_encrypted == "" and not scan_database(EMAIL)
    status, _ = _api(client, store.shop.domain, "/report", request=str(audit.pk))
    assert status == 404


def test_a_shopper_the_app_does_not_know_gets_an_answered_request(store: Store) -> None:
    outcome = deliver("customers/data_request",
                      {"customer": {"id": 1, "email": "nobody@example.com", "phone": None},
                       "data_request": {"id": 5}}, shop_domain=store.shop.domain)
    assert "0 subscriptions found" in outcome
    audit = ComplianceRequest.objects.get()
    assert audit.state == ComplianceRequest.State.COMPLETED and audit.subject_encrypted == ""


def test_an_unopened_report_is_forgotten_after_30_days(store: Store) -> None:
    deliver("customers/data_request", REQUEST, shop_domain=store.shop.domain)
    assert privacy_sweep()["expired_reports"] == 0
    ComplianceRequest.objects.update(subject_expires_at=timezone.now() - timedelta(seconds=1))
    assert privacy_sweep()["expired_reports"] == 1
    audit = ComplianceRequest.objects.get()
    assert audit.subject_encrypted == "" and audit.state == ComplianceRequest.State.COMPLETED
