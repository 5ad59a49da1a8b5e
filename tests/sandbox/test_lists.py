"""Lists and list membership; 1,000-id batch limit; deleted list mid-run."""

from __future__ import annotations

import re

from .conftest import Api, error_of, profile_body


def _list_body(name: str) -> dict:
    return {"data": {"type": "list", "attributes": {"name": name}}}


def _members(ids: list[str]) -> dict:
    return {"data": [{"type": "profile", "id": i} for i in ids]}


def test_create_find_get_update_list(api: Api) -> None:
    r = api.call("POST", "/api/lists", _list_body("Back in Stock"))
    assert r.status_code == 201
    list_id = r.json()["data"]["id"]
    assert re.match(r"^[A-Za-z0-9]{6}$", list_id)
    api.call("POST", "/api/lists", _list_body("Other"))
    found = api.call("GET", "/api/lists", filter='equals(name,"Back in Stock")').json()["data"]
    assert [x["id"] for x in found] == [list_id]
    assert api.call("GET", "/api/lists", filter='equals(name,"back in stock")').json()["data"] == []
    r = api.call("GET", f"/api/lists/{list_id}")
    assert r.json()["data"]["attributes"]["name"] == "Back in Stock"
    r = api.call("PATCH", f"/api/lists/{list_id}",
                 {"data": {"type": "list", "id": list_id, "attributes": {"name": "BIS"}}})
    assert r.status_code == 200
    assert api.sandbox.admin.lists(api.account_id)[0]["name"] == "BIS"
    assert api.call("GET", f"/api/lists/{list_id.swapcase()}").status_code == 404


def test_list_page_size_max_10(api: Api) -> None:
    assert api.call("GET", "/api/lists", **{"page[size]": "11"}).status_code == 400


def test_add_and_remove_members(api: Api) -> None:
    list_id = api.sandbox.admin.create_list(api.account_id, "BIS")
    ids = [api.call("POST", "/api/profile-import", profile_body(email=f"m{i}@shop.test")
                    ).json()["data"]["id"] for i in range(3)]
    r = api.call("POST", f"/api/lists/{list_id}/relationships/profiles", _members(ids))
    assert r.status_code == 204
    assert r.content == b""
    assert api.sandbox.admin.list_members(api.account_id, list_id) == ids
    r = api.call("DELETE", f"/api/lists/{list_id}/relationships/profiles", _members(ids[:1]))
    assert r.status_code == 204
    assert api.sandbox.admin.list_members(api.account_id, list_id) == ids[1:]
    r = api.call("GET", f"/api/lists/{list_id}", **{"additional-fields[list]": "profile_count"})
    assert r.json()["data"]["attributes"]["profile_count"] == 2


def test_members_batch_limit_1000(api: Api) -> None:
    list_id = api.sandbox.admin.create_list(api.account_id, "BIS")
    ids = [f"01ABCDEFGHJKMNPQRSTVWX{i:04d}" for i in range(1001)]
    r = api.call("POST", f"/api/lists/{list_id}/relationships/profiles", _members(ids))
    assert r.status_code == 400
    assert "1000" in error_of(r)["detail"]


def test_unknown_profile_id_rejected(api: Api) -> None:
    list_id = api.sandbox.admin.create_list(api.account_id, "BIS")
    r = api.call("POST", f"/api/lists/{list_id}/relationships/profiles",
                 _members(["01ABCDEFGHJKMNPQRSTVWXYZ01"]))
    assert r.status_code == 400


def test_list_deleted_mid_run(api: Api) -> None:
    list_id = api.sandbox.admin.create_list(api.account_id, "BIS")
    pid = api.call("POST", "/api/profile-import", profile_body(email="d@shop.test")
                   ).json()["data"]["id"]
    assert api.call("POST", f"/api/lists/{list_id}/relationships/profiles", _members([pid])
                    ).status_code == 204
    api.sandbox.admin.delete_list(api.account_id, list_id)
    r = api.call("POST", f"/api/lists/{list_id}/relationships/profiles", _members([pid]))
    assert r.status_code == 404
    assert error_of(r)["code"] == "not_found"


def test_daily_list_creation_cap(api: Api) -> None:
    # burst/steady x10 out of the way; the published 150/day scaled to 15/day
    api.sandbox.admin.set_rate_limits(enabled=True, scale=10, windows={"daily": 0.1})
    statuses = [api.call("POST", "/api/lists", _list_body(f"L{i}")).status_code
                for i in range(16)]
    assert statuses == [201] * 15 + [429]
    [entry] = [e for e in api.sandbox.admin.requests(api.account_id) if e["status"] == 429]
    assert entry["window"] == "daily"


def test_list_membership_read_and_delete_list_via_api(api: Api) -> None:
    list_id = api.call("POST", "/api/lists", _list_body("Temp")).json()["data"]["id"]
    pid = api.call("POST", "/api/profile-import", profile_body(email="t@shop.test")
                   ).json()["data"]["id"]
    api.call("POST", f"/api/lists/{list_id}/relationships/profiles", _members([pid]))
    r = api.call("GET", f"/api/lists/{list_id}/relationships/profiles")
    assert r.json()["data"] == [{"type": "profile", "id": pid}]
    assert api.call("DELETE", f"/api/lists/{list_id}").status_code == 204
    assert api.call("GET", f"/api/lists/{list_id}").status_code == 404
    assert api.sandbox.admin.lists(api.account_id) == []


def test_lists_pagination_follows_links_next(api: Api) -> None:
    for i in range(12):
        api.sandbox.admin.create_list(api.account_id, f"List {i}")
    first = api.call("GET", "/api/lists").json()
    assert len(first["data"]) == 10
    following = api.session.get(first["links"]["next"], timeout=10, headers={
        "Authorization": f"Klaviyo-API-Key {api.key}", "revision": "2026-07-15"}).json()
    assert len(following["data"]) == 2
    assert following["links"]["next"] is None
