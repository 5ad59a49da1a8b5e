"""The Klaviyo flow panel, as a new merchant meets it: connected, but do emails go out?

Through the JSON API and the panel fragment the page renders, against the Klaviyo sandbox:
no event yet → no flow → "Create the flow for me" (a spec-valid draft on the metric) → the
merchant sets it live in Klaviyo → "Check again" says a live flow sends the emails. A key
without the flow scopes still connects and is told which scope to add; pages never call
Klaviyo; one shop can never create a flow with another's connection.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import django_rq
import pytest
from django.test import Client
from django.utils import timezone

from integrations.klaviyo.flows import FLOW_NAME
from integrations.klaviyo.models import KlaviyoConnection
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.services import detection_of
from notifyme.sync import engine
from notifyme.sync.flow_checks import flow_check_job, sweep_flow_checks
from tests.dashboard.conftest import Api
from tests.factories import shop_make, subscription_make, variant_make
from tests.fixtures.shopify import id_token
from tests.restocks.conftest import drain as fanout_drain

pytestmark = pytest.mark.django_db


def panel(api: Api) -> str:
    response = api.get("/flow")
    assert response.status_code == 200
    return str(response.content.decode())


def a_restock_alert_goes_out(api: Api) -> None:
    """A shopper waits, the variant comes back: Klaviyo accepts a Back in Stock event."""
    variant = variant_make(api.shop)
    subscription_make(api.shop, variant, email="ada@example.com")
    engine.run_shop(api.shop.pk, "sync")
    restock = detection_of(variant_update_stock(variant=variant, quantity=5)).restock
    assert restock is not None
    fanout_drain(restock)


def test_from_no_event_to_a_live_flow(api: Api, klaviyo_sandbox: Any, account: dict[str, Any],
                                      full_key: str) -> None:
    assert api.post("/connect", {"private_key": full_key}).status_code == 200
    checked = api.post("/flow/check").json()["flow"]
    assert checked["state"] == "no_metric" and checked["can_create"]
    assert "No restock alert has reached Klaviyo yet" in panel(api)
    early = api.post("/flow/create")
    assert early.status_code == 422 and early.json()["error"]["code"] == "flow_no_metric"

    a_restock_alert_goes_out(api)
    checked = api.post("/flow/check").json()["flow"]
    assert checked["state"] == "no_flow" and checked["alarm"]  # events accepted, no flow
    page = panel(api)
    assert "no flow uses them" in page and "data-flow-create>" in page

    created = api.post("/flow/create")
    assert created.status_code == 201
    flow = created.json()["flow"]
    assert flow["state"] == "not_live"
    assert [(f["name"], f["status"]) for f in flow["flows"]] == [(FLOW_NAME, "draft")]
    [stored] = klaviyo_sandbox.admin.flows(account["id"])
    metric = next(m for m in klaviyo_sandbox.admin.metrics(account["id"])
                  if m["name"] == "Back in Stock")
    assert stored["definition"]["triggers"] == [{"type": "metric", "id": metric["id"]}]
    assert stored["definition"]["actions"][0]["type"] == "send-email"
    assert f"{FLOW_NAME} — draft" in panel(api)

    klaviyo_sandbox.admin.set_flow(account["id"], flow_id=stored["id"], status="live")
    live = api.post("/flow/check").json()["flow"]
    assert live["state"] == "live" and not live["alarm"]
    page = panel(api)
    assert "A live flow sends the emails" in page and "data-flow-create>" not in page


def test_the_panel_shows_the_properties_a_template_can_use_with_a_real_sample(
        api: Api, full_key: str) -> None:
    assert api.post("/connect", {"private_key": full_key}).status_code == 200
    variant_make(api.shop, product_title="Wool Coat", title="Size 40")
    page = panel(api)
    for name in ("product_title", "product_url", "price", "quantity_available", "image_url"):
        assert f"event.{name}" in page
    assert "Wool Coat" in page and "Size 40" in page  # the sample is the shop's own variant
    assert "Build the flow yourself" in page and "Flows → Create flow" in page


def test_a_key_without_the_flow_scopes_connects_and_is_told_which_to_add(
        api: Api, key_without: Callable[..., str]) -> None:
    key = key_without()  # every required scope, none of the optional ones
    assert api.post("/connect", {"private_key": key}).status_code == 200
    assert api.get("").json()["status"] == "connected"
    flow = api.post("/flow/check").json()["flow"]
    assert flow["state"] == "no_scope" and not flow["can_create"]
    assert flow["missing_scopes"] == ["metrics:read", "flows:read"]
    page = panel(api)
    assert "metrics:read and flows:read" in page and "data-flow-create>" not in page
    refused = api.post("/flow/create")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "flow_scope_missing"


def test_pages_read_the_stored_check_and_never_call_klaviyo(
        api: Api, client: Client, klaviyo_sandbox: Any, account: dict[str, Any],
        full_key: str) -> None:
    assert api.post("/connect", {"private_key": full_key}).status_code == 200
    api.post("/flow/check")
    before = len(klaviyo_sandbox.admin.requests(account["id"]))
    document = client.get("/app/", {"id_token": id_token(api.shop.domain),
                                    "shop": api.shop.domain, "embedded": "1", "host": "YWRtaW4"})
    assert document.status_code == 200 and b'id="klaviyo-flow-panel"' in document.content
    panel(api)
    assert len(klaviyo_sandbox.admin.requests(account["id"])) == before


def test_another_shop_cannot_check_or_create_with_this_shop_s_connection(
        api: Api, client: Client, klaviyo_sandbox: Any, account: dict[str, Any],
        full_key: str) -> None:
    assert api.post("/connect", {"private_key": full_key}).status_code == 200
    a_restock_alert_goes_out(api)
    other = Api(client, shop_make("other-shop.myshopify.com", name="Other"))
    refused = other.post("/flow/create")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_connected"
    assert other.post("/flow/check").status_code == 422
    assert klaviyo_sandbox.admin.flows(account["id"]) == []
    assert "data-flow-create>" not in panel(other)


def test_the_sweeper_rechecks_hourly_and_a_disconnect_forgets_the_state(
        api: Api, full_key: str, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/connect", {"private_key": full_key}).status_code == 200
    queued = [j for j in django_rq.get_queue("bulk").job_ids if j.startswith("flowcheck-")]
    assert len(queued) == 1  # the connect enqueued the shop's check; a worker runs it:
    assert flow_check_job(api.shop.pk) == "no_metric"
    connection = KlaviyoConnection.objects.get(shop=api.shop)
    assert sweep_flow_checks() == 0  # just checked
    KlaviyoConnection.objects.filter(pk=connection.pk).update(
        flow_checked_at=timezone.now() - timedelta(hours=2))
    assert sweep_flow_checks() == 1
    assert api.post("/disconnect").status_code == 200
    connection.refresh_from_db()
    assert (connection.flow_state, connection.flow_checked_at, connection.flow_alarm) == (
        "", None, False)
    KlaviyoConnection.objects.filter(pk=connection.pk).update(
        flow_checked_at=timezone.now() - timedelta(hours=2))
    flow_check_job(api.shop.pk)  # the queued one runs: nothing to check for a disconnected shop
    assert sweep_flow_checks() == 0
