"""Authentication, scopes, headers — checked in Klaviyo's order before the body."""

from __future__ import annotations

import re

from .conftest import Api, error_of, profile_body

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_missing_header_is_not_authenticated(api: Api) -> None:
    r = api.call("GET", "/api/accounts", headers={"Authorization": None})  # type: ignore[dict-item]
    assert r.status_code == 401
    err = error_of(r)
    assert err["code"] == "not_authenticated"
    assert err["status"] == 401
    assert UUID.match(err["id"])
    assert set(err) >= {"id", "status", "code", "title", "detail", "source", "links", "meta"}


def test_wrong_scheme_is_not_authenticated(api: Api) -> None:
    r = api.call("GET", "/api/accounts", headers={"Authorization": f"Bearer {api.key}"})
    assert r.status_code == 401
    assert error_of(r)["code"] == "not_authenticated"


def test_unknown_and_revoked_keys_fail_authentication(api: Api) -> None:
    r = api.call("GET", "/api/accounts", key="pk_" + "0" * 34)
    assert r.status_code == 401
    assert error_of(r)["code"] == "authentication_failed"
    assert api.call("GET", "/api/accounts").status_code == 200
    api.sandbox.admin.revoke_key(api.key)
    r = api.call("GET", "/api/accounts")
    assert r.status_code == 401
    assert error_of(r)["code"] == "authentication_failed"


def test_key_shape(api: Api) -> None:
    assert re.match(r"^pk_[0-9a-f]{34}$", api.key)
    assert len(api.key) == 37  # "pk_" + 34, as Klaviyo issues them


def test_missing_scope_is_403_listing_every_missing_scope(api: Api) -> None:
    key = api.sandbox.admin.create_key(api.account_id, ["profiles:read"])
    r = api.call("POST", "/api/profile-subscription-bulk-create-jobs", {}, key=key)
    assert r.status_code == 403
    err = error_of(r)
    assert err["code"] == "permission_denied"
    assert err["detail"] == ("Your API key is missing required scopes: "
                             "lists:write, profiles:write, subscriptions:write")


def test_scope_checked_before_body_validation(api: Api) -> None:
    without = api.sandbox.admin.create_key(api.account_id, ["profiles:read", "lists:write"])
    with_scope = api.sandbox.admin.create_key(api.account_id, "profiles:write")
    assert api.call("POST", "/api/profile-import", {}, key=without).status_code == 403
    r = api.call("POST", "/api/profile-import", {}, key=with_scope)
    assert r.status_code == 400
    assert error_of(r)["source"]["pointer"].startswith("/data")


def test_scope_change_mid_run(api: Api) -> None:
    body = profile_body(email="a@shop.test")
    assert api.call("POST", "/api/profile-import", body).status_code == 201
    api.sandbox.admin.set_key_scopes(api.key, ["profiles:read"])
    r = api.call("POST", "/api/profile-import", body)
    assert r.status_code == 403
    assert error_of(r)["detail"].endswith("profiles:write")
    api.sandbox.admin.set_key_scopes(api.key, "all")
    assert api.call("POST", "/api/profile-import", body).status_code == 200


def test_revision_header_required(api: Api) -> None:
    r = api.call("GET", "/api/accounts", headers={"revision": None})  # type: ignore[dict-item]
    assert r.status_code == 400
    assert error_of(r)["source"]["parameter"] == "revision"


def test_auth_before_revision(api: Api) -> None:
    r = api.call("GET", "/api/accounts", key="pk_unknown",
                 headers={"revision": None})  # type: ignore[dict-item]
    assert r.status_code == 401


def test_content_type_must_be_json(api: Api) -> None:
    body = profile_body(email="a@shop.test")
    r = api.call("POST", "/api/profile-import", body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert error_of(r)["code"] == "unsupported_media_type"
    r = api.call("POST", "/api/profile-import", body,
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 201


def test_malformed_json(api: Api) -> None:
    r = api.call("POST", "/api/profile-import", raw=b"{not json")
    assert r.status_code == 400
    assert error_of(r)["code"] == "parse_error"


def test_trailing_slash_accepted(api: Api) -> None:
    assert api.call("GET", "/api/accounts/").status_code == 200
    assert api.call("POST", "/api/profile-import/", profile_body(email="b@shop.test")
                    ).status_code == 201


def test_unknown_route_and_method(api: Api) -> None:
    assert api.call("GET", "/api/nothing-here").status_code == 404
    assert api.call("PUT", "/api/accounts").status_code == 405


def test_accounts_returns_exactly_one(api: Api) -> None:
    r = api.call("GET", "/api/accounts")
    data = r.json()["data"]
    assert len(data) == 1
    assert data[0]["id"] == api.account_id
    attrs = data[0]["attributes"]
    assert attrs["contact_information"]["organization_name"] == "Test Store"
    assert attrs["public_api_key"] == api.account_id
    assert r.headers["Content-Type"] == "application/vnd.api+json"
