"""Profiles: upsert 201/200, 409 duplicate_profile, partial phone failure, lookups, PATCH."""

from __future__ import annotations

import re

from .conftest import Api, error_of, profile_body

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def test_upsert_creates_then_updates(api: Api) -> None:
    r = api.call("POST", "/api/profile-import",
                 profile_body(email="sam@shop.test", first_name="Sam", locale="en-US",
                              properties={"last_sku": "A"}))
    assert r.status_code == 201
    profile = r.json()["data"]
    assert ULID.match(profile["id"])
    r = api.call("POST", "/api/profile-import",
                 profile_body(email="SAM@shop.test", properties={"size": "M"}))
    assert r.status_code == 200
    assert r.json()["data"]["id"] == profile["id"]
    [stored] = api.sandbox.admin.profiles(api.account_id)
    assert stored["first_name"] == "Sam"
    assert stored["locale"] == "en-US"
    assert stored["properties"] == {"last_sku": "A", "size": "M"}


def test_null_clears_and_omitted_keeps(api: Api) -> None:
    api.call("POST", "/api/profile-import",
             profile_body(email="n@shop.test", first_name="N", last_name="L"))
    api.call("POST", "/api/profile-import", profile_body(email="n@shop.test", first_name=None))
    [stored] = api.sandbox.admin.profiles(api.account_id)
    assert stored["first_name"] is None
    assert stored["last_name"] == "L"


def test_invalid_phone_next_to_valid_email_is_dropped(api: Api) -> None:
    r = api.call("POST", "/api/profile-import",
                 profile_body(email="p@shop.test", phone_number="555-1234"))
    assert r.status_code == 201
    assert r.headers["X-Klaviyo-Partial-Failure"] == "phone_number"
    assert r.json()["data"]["attributes"]["phone_number"] is None


def test_invalid_phone_alone_is_400(api: Api) -> None:
    r = api.call("POST", "/api/profile-import", profile_body(phone_number="5551234"))
    assert r.status_code == 400
    assert error_of(r)["source"]["pointer"] == "/data/attributes/phone_number"


def test_invalid_email_is_400(api: Api) -> None:
    r = api.call("POST", "/api/profile-import", profile_body(email="not-an-email"))
    assert r.status_code == 400
    assert error_of(r)["source"]["pointer"] == "/data/attributes/email"


def test_at_least_one_identifier(api: Api) -> None:
    r = api.call("POST", "/api/profile-import", profile_body(first_name="Nobody"))
    assert r.status_code == 400
    assert error_of(r)["code"] == "invalid"


def test_undeclared_attribute_rejected(api: Api) -> None:
    r = api.call("POST", "/api/profile-import", profile_body(email="u@shop.test", nickname="x"))
    assert r.status_code == 400
    assert error_of(r)["source"]["pointer"] == "/data/attributes/nickname"


def test_email_and_phone_of_different_profiles_is_409(api: Api) -> None:
    a = api.call("POST", "/api/profile-import", profile_body(email="a@shop.test")).json()
    api.call("POST", "/api/profile-import", profile_body(phone_number="+15005550006"))
    body = profile_body(email="a@shop.test", phone_number="+15005550006")
    for path in ("/api/profile-import", "/api/profiles"):
        r = api.call("POST", path, body)
        assert r.status_code == 409, path
        err = error_of(r)
        assert err["code"] == "duplicate_profile"
        assert err["meta"]["duplicate_profile_id"] == a["data"]["id"]


def test_create_profile_conflicts_when_it_exists(api: Api) -> None:
    r = api.call("POST", "/api/profiles", profile_body(email="c@shop.test"))
    assert r.status_code == 201
    first = r.json()["data"]["id"]
    r = api.call("POST", "/api/profiles", profile_body(email="c@shop.test"))
    assert r.status_code == 409
    assert error_of(r)["meta"]["duplicate_profile_id"] == first


def test_create_profile_rejects_kx(api: Api) -> None:
    r = api.call("POST", "/api/profiles", profile_body(email="k@shop.test", _kx="abc"))
    assert r.status_code == 400


def test_get_profiles_filters(api: Api) -> None:
    pid = api.call("POST", "/api/profile-import",
                   profile_body(email="f+1@shop.test", phone_number="+15005550007")
                   ).json()["data"]["id"]
    api.call("POST", "/api/profile-import", profile_body(email="other@shop.test"))
    for flt in ('equals(email,"f+1@shop.test")', 'equals(phone_number,"+15005550007")',
                f'equals(id,"{pid}")'):
        data = api.call("GET", "/api/profiles", filter=flt).json()["data"]
        assert [p["id"] for p in data] == [pid], flt
    assert api.call("GET", "/api/profiles", filter='equals(email,"none@shop.test")'
                    ).json()["data"] == []
    assert api.call("GET", "/api/profiles", filter="bogus").status_code == 400


def test_patch_profile(api: Api) -> None:
    pid = api.call("POST", "/api/profile-import", profile_body(email="pa@shop.test")
                   ).json()["data"]["id"]
    body = {"data": {"type": "profile", "id": pid, "attributes": {"first_name": "Pat"}}}
    r = api.call("PATCH", f"/api/profiles/{pid}", body)
    assert r.status_code == 200
    assert r.json()["data"]["attributes"]["first_name"] == "Pat"
    body["data"]["id"] = "01ABCDEFGHJKMNPQRSTVWXYZ01"
    assert api.call("PATCH", f"/api/profiles/{pid}", body).status_code == 409
    missing = "01ABCDEFGHJKMNPQRSTVWXYZ01"
    body["data"]["id"] = missing
    assert api.call("PATCH", f"/api/profiles/{missing}", body).status_code == 404


def test_profile_size_limit(api: Api) -> None:
    r = api.call("POST", "/api/profile-import",
                 profile_body(email="big@shop.test", properties={"blob": "x" * 110_000}))
    assert r.status_code == 400


def test_body_size_limit(api: Api) -> None:
    r = api.call("POST", "/api/profile-import",
                 raw=b'{"data": {"type": "profile", "attributes": {"email": "' + b"x" * 5_300_000
                 + b'"}}}')
    assert r.status_code == 413


def test_any_filter_and_get_by_id(api: Api) -> None:
    ids = [api.call("POST", "/api/profile-import", profile_body(email=f"any{i}@shop.test")
                    ).json()["data"]["id"] for i in range(3)]
    data = api.call("GET", "/api/profiles",
                    filter='any(email,["any0@shop.test","any2@shop.test"])').json()["data"]
    assert [p["id"] for p in data] == [ids[0], ids[2]]
    r = api.call("GET", f"/api/profiles/{ids[1]}")
    assert r.json()["data"]["attributes"]["email"] == "any1@shop.test"
    assert api.call("GET", "/api/profiles/01ABCDEFGHJKMNPQRSTVWXYZ01").status_code == 404
