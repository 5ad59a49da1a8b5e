"""The JSON API behind the settings page: every outcome, the error envelope, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from integrations.klaviyo.errors import KlaviyoRateLimitedError
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import connection_record_error, connection_record_success
from notifyme.subscriptions.models import Subscription
from notifyme.sync import engine
from tests.dashboard.conftest import Api
from tests.factories import subscription_make, variant_make

pytestmark = pytest.mark.django_db


def test_status_when_not_connected(api: Api) -> None:
    body = api.get("").json()
    assert body["status"] == "disconnected"
    assert body["status_label"] == "Not connected"
    assert body["key"] is None and body["account"] is None
    assert body["subscribers"] == {"pending": 0, "synced": 0, "failed": 0}
    assert "profiles:write" in body["scopes_required"]


def test_connect_then_status(
    api: Api, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    response = api.post("/connect", {"private_key": f" {full_key} "})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "connected" and body["syncing"] is True
    assert body["account"] == {"id": account["id"], "name": "Demo Outfitters Klaviyo"}
    assert body["key"] == f"pk_…{full_key[-4:]}"
    assert body["list"]["name"] == "Back in Stock"
    assert body["verified_at"] and body["scopes_verified"]
    assert body["last_sync_at"] is None  # verification calls are not a sync
    assert full_key not in response.content.decode()
    assert api.get("").json() == body


def test_connect_missing_profiles_write(
    api: Api, klaviyo_sandbox: Any, key_without: Callable[..., str]
) -> None:
    response = api.post("/connect", {"private_key": key_without("profiles:write")})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "missing_scopes"
    assert error["missing_scopes"] == ["profiles:write"]
    assert "profiles:write" in error["message"]
    assert "You cannot edit a key after it is created" in error["message"]
    assert error["fields"] == {"private_key": [error["message"]]}
    assert api.get("").json()["status"] == "disconnected"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"private_key": "AbC123"}, "invalid_key", "private_key"),
        ({"private_key": ""}, "invalid_key", "private_key"),
        ({"private_key": "pk_" + "0" * 34}, "invalid_key", "private_key"),
    ],
)
def test_connect_refusals(api: Api, klaviyo_sandbox: Any, body: dict[str, Any], code: str,
                          field: str) -> None:
    response = api.post("/connect", body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code and field in error["fields"]


def test_connect_list_not_found(api: Api, klaviyo_sandbox: Any, full_key: str) -> None:
    for list_id in ("ZZZZZZ", "bad id"):
        response = api.post("/connect", {"private_key": full_key, "list_id": list_id})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "list_not_found"
        assert "list_id" in response.json()["error"]["fields"]


def test_connect_unavailable_and_edge_block(
    api: Api, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    klaviyo_sandbox.admin.set_faults(account["id"], error_rate=1.0, error_statuses=[503])
    error = api.post("/connect", {"private_key": full_key}).json()["error"]
    assert error["code"] == "klaviyo_unavailable" and "fields" not in error
    klaviyo_sandbox.admin.set_faults(account["id"], html_403_rate=1.0)
    error = api.post("/connect", {"private_key": full_key}).json()["error"]
    assert (error["code"], error["reason"]) == ("klaviyo_unavailable", "edge_blocked")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'"pk_x"', None),
        (b"\xff\xfe", None),
        (b'{"private_key": 42}', "private_key"),
        (b'{"private_key": null}', "private_key"),
        (b'{"private_key": ["pk_x"]}', "private_key"),
        (b'{"private_key": "pk_abc", "list_id": 7}', "list_id"),
        (b"{}", "private_key"),
    ],
)
def test_bad_input_is_400_naming_the_field(api: Api, raw: bytes, field: str | None) -> None:
    response = api.post("/connect", raw=raw)
    assert response.status_code == 400
    error = response.json()["error"]
    if field:
        assert list(error["fields"]) == [field]
    else:
        assert error["code"] == "invalid_json"


def test_too_large_body_is_413(api: Api) -> None:
    response = api.post("/connect", {"private_key": "pk_" + "a" * 40_000})
    assert response.status_code == 413


def test_wrong_method_is_json_405(api: Api) -> None:
    response = api.client.get("/app/api/klaviyo/connect", **api.headers())
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert api.post("", {}).status_code == 405


def test_lists_choose_and_create(
    api: Api, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    assert api.get("/lists").json()["error"]["code"] == "not_connected"
    vip = klaviyo_sandbox.admin.create_list(account["id"], "VIP")
    api.post("/connect", {"private_key": full_key})
    body = api.get("/lists").json()
    assert [item["name"] for item in body["lists"]] == ["Back in Stock", "VIP"]
    assert body["selected"] == next(i["id"] for i in body["lists"] if i["name"] != "VIP")
    changed = api.post("/list", {"list_id": vip}).json()
    assert changed["list"] == {"id": vip, "name": "VIP"}
    assert api.post("/list", {"list_id": "NoSuch"}).json()["error"]["code"] == "list_not_found"
    assert api.post("/list", {}).status_code == 400
    assert api.post("/list", {"create_name": "  "}).status_code == 400
    created = api.post("/list", {"create_name": "Restocks"}).json()
    assert created["list"]["name"] == "Restocks"


def test_retest_and_disconnect(
    api: Api, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    assert api.post("/retest").json()["error"]["code"] == "not_connected"
    api.post("/connect", {"private_key": full_key})
    klaviyo_sandbox.admin.set_key_scopes(full_key, ["accounts:read", "profiles:read"])
    error = api.post("/retest").json()["error"]
    assert error["code"] == "missing_scopes"
    status = api.get("").json()
    assert status["status"] == "needs_attention"
    assert "profiles:write" in status["status_message"]
    assert status["last_error"]["kind"] == "missing_scopes"
    klaviyo_sandbox.admin.set_key_scopes(full_key, "all")
    assert api.post("/retest").json()["status"] == "connected"
    body = api.post("/disconnect").json()
    assert body["status"] == "disconnected" and body["key"] is None


def test_counts(api: Api, demo_shop: Any, klaviyo_sandbox: Any, account: dict[str, Any],
                full_key: str) -> None:
    api.post("/connect", {"private_key": full_key})
    variant = variant_make(demo_shop)
    synced = subscription_make(demo_shop, variant, email="synced@example.com")
    engine.run_shop(demo_shop.pk, "sync")
    failed = subscription_make(demo_shop, variant, email="failed@example.com")
    klaviyo_sandbox.admin.set_faults(account["id"], next_errors=[400])
    engine.run_shop(demo_shop.pk, "sync")
    subscription_make(demo_shop, variant, email="pending1@example.com")
    subscription_make(demo_shop, variant, email="pending2@example.com")
    states = dict(Subscription.objects.values_list("email", "sync_state"))
    assert (states[synced.email], states[failed.email]) == ("synced", "failed")
    assert api.get("").json()["subscribers"] == {"pending": 2, "synced": 1, "failed": 1}


def test_panel_fragment_and_page_render_the_state(
    api: Api, klaviyo_sandbox: Any, full_key: str
) -> None:
    api.post("/connect", {"private_key": full_key})
    panel = api.get("/panel")
    assert panel.status_code == 200
    html = panel.content.decode()
    assert "Connected and syncing" in html and f"pk_…{full_key[-4:]}" in html
    assert "Demo Outfitters Klaviyo" in html and full_key not in html
    connection = KlaviyoConnection.objects.get()
    assert connection.status == "connected"


def test_a_passing_error_klaviyo_has_since_answered_past_shows_as_resolved(
    api: Api, klaviyo_sandbox: Any, full_key: str
) -> None:
    api.post("/connect", {"private_key": full_key})
    connection = KlaviyoConnection.objects.get(shop=api.shop)
    connection_record_error(connection=connection, error=KlaviyoRateLimitedError(
        status=429, message="Request was throttled."))
    error = api.get("").json()["last_error"]
    assert error["kind"] == "rate_limited" and error["resolved"] is False
    panel = api.get("/panel").content.decode()
    assert "Last error" in panel and "data-resolved" not in panel

    connection_record_success(connection=connection)  # a later batch went through
    error = api.get("").json()["last_error"]
    assert error["kind"] == "rate_limited" and error["resolved"] is True
    panel = api.get("/panel").content.decode()
    assert "Earlier error, since resolved" in panel and "nothing to do" in panel


def test_an_error_that_halted_syncing_is_never_shown_as_resolved(
    api: Api, klaviyo_sandbox: Any, full_key: str
) -> None:
    api.post("/connect", {"private_key": full_key})
    connection = KlaviyoConnection.objects.get(shop=api.shop)
    connection_record_success(connection=connection)
    klaviyo_sandbox.admin.set_key_scopes(full_key, ["accounts:read", "profiles:read"])
    api.post("/retest")
    status = api.get("").json()
    assert status["status"] == "needs_attention"
    assert status["last_error"]["resolved"] is False
