"""Inspection: request log, HTML page, stats — and keys never shown in full."""

from __future__ import annotations

from typing import Any

import requests

from tests.fixtures.sandbox import SandboxHandle

from .conftest import Api, email_consent, event_body, profile_body, subscribe_body


def _exercise(api: Api) -> str:
    list_id = api.sandbox.admin.create_list(api.account_id, "Back in Stock")
    api.call("POST", "/api/profile-import", profile_body(email="i@shop.test", first_name="Ina"))
    api.call("POST", "/api/profile-subscription-bulk-create-jobs",
             subscribe_body([{"email": "i@shop.test", "subscriptions": email_consent()}],
                            list_id))
    body = event_body("Back in Stock", {"email": "i@shop.test"}, "bis:i:1")
    api.call("POST", "/api/events", body)
    api.call("POST", "/api/events", body)
    api.call("GET", "/api/accounts", key="pk_" + "f" * 34)
    return list_id


def test_request_log(api: Api) -> None:
    _exercise(api)
    log = api.sandbox.admin.requests(api.account_id)
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/api/profile-import", 201),
        ("POST", "/api/profile-subscription-bulk-create-jobs", 202),
        ("POST", "/api/events", 202), ("POST", "/api/events", 202)]
    entry = log[0]
    assert entry["key"] == "pk_…" + api.key[-4:]
    assert entry["body_size"] > 0
    assert entry["duration_ms"] >= 0
    assert entry["time"]
    assert entry["operation"] == "create_or_update_profile"


def test_stats_and_views(api: Api) -> None:
    list_id = _exercise(api)
    stats = api.sandbox.admin.stats(api.account_id)
    assert stats["requests"] == 4
    assert stats["events"] == 1
    assert stats["duplicates_dropped"] == 1
    assert stats["profiles"] == 1
    assert stats["throttled"] == 0
    assert stats["events_by_metric"] == {"Back in Stock": 1}
    [profile] = api.sandbox.admin.profiles(api.account_id)
    assert set(profile) >= {"id", "email", "phone_number", "external_id", "first_name",
                            "locale", "properties", "created"}
    [sub] = api.sandbox.admin.subscriptions(api.account_id)
    assert set(sub) >= {"profile_id", "email", "phone_number", "channel", "list_id",
                        "custom_source", "consented_at"}
    assert api.sandbox.admin.list_members(api.account_id, list_id) == [profile["id"]]
    [event] = api.sandbox.admin.events(api.account_id)
    assert set(event) >= {"metric", "profile_id", "unique_id", "properties", "time"}


def test_html_page_shows_what_was_received(api: Api) -> None:
    _exercise(api)
    r = requests.get(f"{api.sandbox.url}/_sandbox/", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    for text in ("Test Store", "i@shop.test", "Back in Stock", "bis:i:1", "/api/events",
                 "pk_…" + api.key[-4:], "duplicates dropped", "429s served"):
        assert text in r.text, text


def test_keys_never_shown_in_full(api: Api) -> None:
    _exercise(api)
    second = api.sandbox.admin.create_key(api.account_id, ["events:write"])
    api.sandbox.admin.revoke_key(second)
    base = f"{api.sandbox.url}/_sandbox"
    pages = [f"{base}/", f"{base}/keys", f"{base}/accounts",
             f"{base}/requests/unattributed"] + [
        f"{base}/accounts/{api.account_id}/{view}"
        for view in ("requests", "profiles", "subscriptions", "events", "metrics", "jobs",
                     "stats", "lists", "faults")]
    for url in pages:
        text = requests.get(url, timeout=10).text
        for key in (api.key, second, "pk_" + "f" * 34):
            assert key not in text, url
            assert key[3:] not in text, url
    keys = api.sandbox.admin.keys(api.account_id)
    assert {k["key"] for k in keys} == {"pk_…" + api.key[-4:], "pk_…" + second[-4:]}


def test_unattributed_requests_are_logged_without_key(api: Api) -> None:
    api.call("GET", "/api/accounts", key="pk_" + "a" * 30 + "zz99")
    r = requests.get(f"{api.sandbox.url}/_sandbox/requests/unattributed", timeout=10)
    [entry] = r.json()
    assert entry["status"] == 401
    assert entry["key"] == "pk_…zz99"


def test_html_page_escapes_values(api: Api) -> None:
    api.call("POST", "/api/profile-import",
             profile_body(email="x@shop.test", first_name="<script>alert(1)</script>"))
    text = requests.get(f"{api.sandbox.url}/_sandbox/?account={api.account_id}", timeout=10).text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text


def test_fixture_resets_with_published_limits_on(klaviyo_sandbox: SandboxHandle,
                                                 settings: Any) -> None:
    assert settings.KLAVIYO_API_URL == klaviyo_sandbox.url
    limits = requests.get(f"{klaviyo_sandbox.url}/_sandbox/rate-limits", timeout=10).json()
    assert (limits["enabled"], limits["scale"], limits["accounts"]) == (True, 1.0, {})
    assert requests.get(f"{klaviyo_sandbox.url}/_sandbox/accounts", timeout=10).json() == []
