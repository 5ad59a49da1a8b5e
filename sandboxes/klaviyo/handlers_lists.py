"""List operations: get/create/update/delete lists and list membership (profile ids only)."""

from __future__ import annotations

from .errors import ApiError, invalid
from .resources import list_resource, matches, parse_filter
from .rules import MAX_LIST_MEMBERS, check_count
from .web import Request, Response, collection, page_links, page_window

LIST_FILTERS = {"name": {"equals", "any"}, "id": {"equals", "any"}}


def get_lists(req: Request) -> Response:
    account = req.account
    assert account is not None
    filters = parse_filter(req.arg("filter"), LIST_FILTERS)
    found = [r for r in account.lists.values()
             if matches(filters, lambda f, r=r: r.id if f == "id" else r.name)]
    start, size = page_window(req, len(found), 10, 10)
    items = [list_resource(r, req.base_url) for r in found[start:start + size]]
    return Response(200, collection(items, *page_links(req, start, size, len(found))))


def create_list(req: Request) -> Response:
    """POST /api/lists (the 150/day cap is the operation's `daily` rate-limit window)."""
    assert req.account is not None
    attrs = req.body["data"]["attributes"]
    name = attrs["name"]
    if not name.strip():
        raise invalid("List name may not be blank.", pointer="/data/attributes/name")
    record = req.account.create_list(name, attrs.get("opt_in_process") or "single_opt_in")
    return Response(201, {"data": list_resource(record, req.base_url),
                          "links": {"self": f"{req.base_url}/api/lists/{record.id}/"}})


def get_list(req: Request) -> Response:
    assert req.account is not None
    record = req.account.get_list(req.params["id"])
    count = None
    if "profile_count" in (req.arg("additional-fields[list]") or "").split(","):
        count = len(req.account.members.get(record.id, {}))
    return Response(200, {"data": list_resource(record, req.base_url, count),
                          "links": {"self": f"{req.base_url}/api/lists/{record.id}/"}})


def update_list(req: Request) -> Response:
    assert req.account is not None
    data = req.body["data"]
    if data.get("id") != req.params["id"]:
        raise ApiError(409, "conflict", "The id in the body does not match the id in the URL.",
                       pointer="/data/id")
    record = req.account.get_list(req.params["id"])
    attrs = data.get("attributes") or {}
    if "name" in attrs:
        if not str(attrs["name"]).strip():
            raise invalid("List name may not be blank.", pointer="/data/attributes/name")
        record.name = attrs["name"]
    if attrs.get("opt_in_process"):
        record.opt_in_process = attrs["opt_in_process"]
    from .ids import now_iso

    record.updated = now_iso()
    return Response(200, {"data": list_resource(record, req.base_url)})


def delete_list(req: Request) -> Response:
    assert req.account is not None
    req.account.delete_list(req.params["id"])
    return Response(204)


def _member_ids(req: Request) -> list[str]:
    assert req.account is not None
    items = req.body["data"]
    check_count(items, MAX_LIST_MEMBERS, "/data", "profiles")
    ids = []
    for i, item in enumerate(items):
        if item["id"] not in req.account.profiles:
            raise invalid(f"Profile {item['id']} does not exist.", pointer=f"/data/{i}/id")
        ids.append(item["id"])
    return ids


def add_profiles_to_list(req: Request) -> Response:
    assert req.account is not None
    record = req.account.get_list(req.params["id"])
    members = req.account.members.setdefault(record.id, {})
    for profile_id in _member_ids(req):
        members[profile_id] = None
    return Response(204)


def remove_profiles_from_list(req: Request) -> Response:
    assert req.account is not None
    record = req.account.get_list(req.params["id"])
    members = req.account.members.setdefault(record.id, {})
    for profile_id in _member_ids(req):
        members.pop(profile_id, None)
    return Response(204)


def get_profile_ids_for_list(req: Request) -> Response:
    assert req.account is not None
    record = req.account.get_list(req.params["id"])
    ids = list(req.account.members.get(record.id, {}))
    start, size = page_window(req, len(ids), 20, 1000)
    items = [{"type": "profile", "id": i} for i in ids[start:start + size]]
    return Response(200, collection(items, *page_links(req, start, size, len(ids))))
