"""Consent jobs (subscribe ≤1,000, unsubscribe ≤100) and bulk profile import jobs."""

from __future__ import annotations

from typing import Any

from .conftest import Api, email_consent, error_of, subscribe_body


def test_subscribe_records_consent_and_membership(api: Api) -> None:
    list_id = api.sandbox.admin.create_list(api.account_id, "BIS")
    body = subscribe_body([
        {"email": "s@shop.test", "subscriptions": email_consent()},
        {"phone_number": "+15005550006",
         "subscriptions": {"sms": {"marketing": {"consent": "SUBSCRIBED"}}}},
    ], list_id)
    r = api.call("POST", "/api/profile-subscription-bulk-create-jobs", body)
    assert r.status_code == 202
    assert r.content == b""
    subs = api.sandbox.admin.subscriptions(api.account_id)
    assert {(s["channel"], s["list_id"], s["custom_source"]) for s in subs} == {
        ("email", list_id, "Back in stock form"), ("sms", list_id, "Back in stock form")}
    assert {s["email"] for s in subs} == {"s@shop.test", None}
    assert len(api.sandbox.admin.list_members(api.account_id, list_id)) == 2
    profiles = api.call("GET", "/api/profiles", filter='equals(email,"s@shop.test")',
                        **{"additional-fields[profile]": "subscriptions"}).json()["data"]
    marketing = profiles[0]["attributes"]["subscriptions"]["email"]["marketing"]
    assert marketing["consent"] == "SUBSCRIBED"


def test_subscribe_rejects_undeclared_attribute(api: Api) -> None:
    body = subscribe_body([{"email": "s@shop.test", "last_name": "X",
                            "subscriptions": email_consent()}])
    r = api.call("POST", "/api/profile-subscription-bulk-create-jobs", body)
    assert r.status_code == 400
    pointer = "/data/attributes/profiles/data/0/attributes/last_name"
    assert error_of(r)["source"]["pointer"] == pointer


def test_subscribe_limit_1000(api: Api) -> None:
    profiles = [{"email": f"s{i}@shop.test", "subscriptions": email_consent()}
                for i in range(1001)]
    r = api.call("POST", "/api/profile-subscription-bulk-create-jobs", subscribe_body(profiles))
    assert r.status_code == 400
    assert api.sandbox.admin.subscriptions(api.account_id) == []


def test_consented_at_only_with_historical_import(api: Api) -> None:
    consent = {"email": {"marketing": {"consent": "SUBSCRIBED",
                                       "consented_at": "2024-01-01T00:00:00+00:00"}}}
    body = subscribe_body([{"email": "h@shop.test", "subscriptions": consent}])
    assert api.call("POST", "/api/profile-subscription-bulk-create-jobs", body
                    ).status_code == 400
    body["data"]["attributes"]["historical_import"] = True
    assert api.call("POST", "/api/profile-subscription-bulk-create-jobs", body
                    ).status_code == 202


def test_subscribe_invalid_phone_is_400(api: Api) -> None:
    body = subscribe_body([{"phone_number": "12345",
                            "subscriptions": {"sms": {"marketing": {"consent": "SUBSCRIBED"}}}}])
    assert api.call("POST", "/api/profile-subscription-bulk-create-jobs", body
                    ).status_code == 400


def _unsubscribe(emails: list[str], list_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"data": {"type": "profile-subscription-bulk-delete-job", "attributes": {
        "profiles": {"data": [{"type": "profile", "attributes": {
            "email": e, "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}}}}
            for e in emails]}}}}
    if list_id:
        body["data"]["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return body


def test_unsubscribe(api: Api) -> None:
    list_id = api.sandbox.admin.create_list(api.account_id, "BIS")
    api.call("POST", "/api/profile-subscription-bulk-create-jobs",
             subscribe_body([{"email": "u@shop.test", "subscriptions": email_consent()}], list_id))
    r = api.call("POST", "/api/profile-subscription-bulk-delete-jobs",
                 _unsubscribe(["u@shop.test"], list_id))
    assert r.status_code == 202
    assert api.sandbox.admin.subscriptions(api.account_id) == []
    [unsub] = api.sandbox.admin.unsubscriptions(api.account_id)
    assert (unsub["email"], unsub["scope"]) == ("u@shop.test", "list")


def test_unsubscribe_limit_100_and_no_profile_id(api: Api) -> None:
    r = api.call("POST", "/api/profile-subscription-bulk-delete-jobs",
                 _unsubscribe([f"u{i}@shop.test" for i in range(101)]))
    assert r.status_code == 400
    body = _unsubscribe(["u@shop.test"])
    body["data"]["attributes"]["profiles"]["data"][0]["id"] = "01ABCDEFGHJKMNPQRSTVWXYZ01"
    assert api.call("POST", "/api/profile-subscription-bulk-delete-jobs", body
                    ).status_code == 400


def _import(rows: list[dict[str, Any]], list_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"data": {"type": "profile-bulk-import-job", "attributes": {
        "profiles": {"data": [{"type": "profile", "attributes": r} for r in rows]}}}}
    if list_id:
        body["data"]["relationships"] = {"lists": {"data": [{"type": "list", "id": list_id}]}}
    return body


def test_bulk_import_job_and_import_errors(api: Api) -> None:
    list_id = api.sandbox.admin.create_list(api.account_id, "BIS")
    rows = [{"email": "ok1@shop.test"}, {"email": "not-an-email"}, {"email": "ok2@shop.test"}]
    r = api.call("POST", "/api/profile-bulk-import-jobs", _import(rows, list_id))
    assert r.status_code == 202
    job = r.json()["data"]
    assert job["type"] == "profile-bulk-import-job"
    assert job["attributes"]["status"] == "queued"
    r = api.call("GET", f"/api/profile-bulk-import-jobs/{job['id']}")
    attrs = r.json()["data"]["attributes"]
    assert (attrs["status"], attrs["total_count"], attrs["completed_count"],
            attrs["failed_count"]) == ("complete", 3, 2, 1)
    errors = api.call("GET", f"/api/profile-bulk-import-jobs/{job['id']}/import-errors"
                      ).json()["data"]
    assert len(errors) == 1
    assert errors[0]["type"] == "import-error"
    assert errors[0]["attributes"]["source"]["pointer"] == (
        "/data/attributes/profiles/data/1/attributes/email")
    assert errors[0]["attributes"]["original_payload"]["attributes"]["email"] == "not-an-email"
    assert len(api.sandbox.admin.list_members(api.account_id, list_id)) == 2


def test_bulk_import_polling_needs_read_scopes(api: Api) -> None:
    key = api.sandbox.admin.create_key(api.account_id, ["lists:write", "profiles:write"])
    r = api.call("POST", "/api/profile-bulk-import-jobs", _import([{"email": "a@shop.test"}]),
                 key=key)
    assert r.status_code == 202
    r = api.call("GET", f"/api/profile-bulk-import-jobs/{r.json()['data']['id']}", key=key)
    assert r.status_code == 403
    assert error_of(r)["detail"].endswith("lists:read, profiles:read")


def test_bulk_import_limit_10000(api: Api) -> None:
    rows = [{"email": f"i{i}@shop.test"} for i in range(10001)]
    r = api.call("POST", "/api/profile-bulk-import-jobs", _import(rows))
    assert r.status_code == 400
    assert api.sandbox.admin.profiles(api.account_id) == []
