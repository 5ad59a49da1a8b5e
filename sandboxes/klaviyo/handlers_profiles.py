"""Profile operations: upsert, create, update, get, bulk import jobs and their import errors.

Each handler receives a `Request` whose body already passed the spec schema and whose account
lock is held; it applies the prose rules (rules.py) and changes the account state.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from . import rules
from .errors import ApiError, not_found
from .ids import now_iso
from .resources import matches, parse_filter, profile_resource
from .state import AccountState
from .web import Request, Response, collection, page_links, page_window

PROFILE_FILTERS = {"id": {"equals", "any"}, "email": {"equals", "any"},
                   "phone_number": {"equals", "any"}, "external_id": {"equals", "any"},
                   "_kx": {"equals"}}
_CREATE_IDS = ("email", "phone_number", "external_id", "anonymous_id")


def _split(attrs: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
    attrs = dict(attrs)
    return attrs, attrs.pop("location", None), attrs.pop("properties", None)


def _doc(req: Request, profile: Any) -> dict[str, Any]:
    assert req.account is not None
    return {"data": profile_resource(req.account, profile, req.base_url,
                                     req.arg("additional-fields[profile]")),
            "links": {"self": f"{req.base_url}/api/profiles/{profile.id}/"}}


def create_or_update_profile(req: Request) -> Response:
    """POST /api/profile-import: 201 created / 200 updated; bad phone next to email is dropped."""
    data = req.body["data"]
    attrs, location, properties = _split(data["attributes"])
    headers: dict[str, str] = {}
    rules.check_email(attrs.get("email"), "/data/attributes/email")
    phone = attrs.get("phone_number")
    if phone is not None and not rules.valid_phone(phone):
        if attrs.get("email"):
            attrs.pop("phone_number")
            headers["X-Klaviyo-Partial-Failure"] = "phone_number"
        else:
            rules.check_phone(phone, "/data/attributes/phone_number")
    rules.check_identifier(attrs, "/data/attributes", data.get("id"))
    rules.check_profile_size(data, "/data")
    assert req.account is not None
    profile, created = req.account.upsert(attrs, profile_id=data.get("id"), location=location,
                                          properties=properties, meta=data.get("meta"))
    return Response(201 if created else 200, _doc(req, profile), headers)


def create_profile(req: Request) -> Response:
    """POST /api/profiles: 201, or 409 `duplicate_profile` when the profile exists."""
    data = req.body["data"]
    attrs, location, properties = _split(data["attributes"])
    rules.check_email(attrs.get("email"), "/data/attributes/email")
    rules.check_phone(attrs.get("phone_number"), "/data/attributes/phone_number")
    rules.check_identifier(attrs, "/data/attributes", identifiers=_CREATE_IDS)
    rules.check_profile_size(data, "/data")
    assert req.account is not None
    profile, _ = req.account.upsert(attrs, location=location, properties=properties,
                                    meta=data.get("meta"), create_only=True)
    return Response(201, _doc(req, profile))


def update_profile(req: Request) -> Response:
    """PATCH /api/profiles/{id}: `data.id` must equal the path id; null clears a field."""
    data = req.body["data"]
    account = req.account
    assert account is not None
    if data.get("id") != req.params["id"]:
        raise ApiError(409, "conflict", "The id in the body does not match the id in the URL.",
                       pointer="/data/id")
    profile = account.profiles.get(req.params["id"])
    if profile is None:
        raise not_found(f"A profile with id {req.params['id']} does not exist.")
    attrs, location, properties = _split(data.get("attributes") or {})
    rules.check_email(attrs.get("email"), "/data/attributes/email")
    rules.check_phone(attrs.get("phone_number"), "/data/attributes/phone_number")
    account.resolve({k: v for k, v in attrs.items() if v is not None}, profile.id)
    account.apply(profile, attrs, location, properties, data.get("meta"))
    return Response(200, _doc(req, profile))


def get_profiles(req: Request) -> Response:
    account = req.account
    assert account is not None
    filters = parse_filter(req.arg("filter"), PROFILE_FILTERS)
    found = [p for p in account.profiles.values()
             if matches(filters, lambda f, p=p: p.id if f == "id" else p.attrs.get(f))]
    start, size = page_window(req, len(found), 20, 100)
    extra = req.arg("additional-fields[profile]")
    items = [profile_resource(account, p, req.base_url, extra) for p in found[start:start + size]]
    return Response(200, collection(items, *page_links(req, start, size, len(found))))


def get_profile(req: Request) -> Response:
    assert req.account is not None
    profile = req.account.profiles.get(req.params["id"])
    if profile is None:
        raise not_found(f"A profile with id {req.params['id']} does not exist.")
    return Response(200, _doc(req, profile))


def bulk_import_profiles(req: Request) -> Response:
    """POST /api/profile-bulk-import-jobs: rows applied now, reported through the job."""
    account = req.account
    assert account is not None
    data = req.body["data"]
    rows = data["attributes"]["profiles"]["data"]
    rules.check_count(rows, rules.MAX_IMPORT, "/data/attributes/profiles/data", "profiles")
    relationship = ((data.get("relationships") or {}).get("lists") or {}).get("data", [])
    lists = [r["id"] for r in relationship]
    for i, list_id in enumerate(lists):
        account.get_list(list_id, f"/data/relationships/lists/data/{i}/id")
    stamp = datetime.now(UTC)
    job: dict[str, Any] = {
        "id": uuid.uuid4().hex[:26].upper(), "status": "queued", "created_at": stamp.isoformat(),
        "total_count": len(rows), "completed_count": 0, "failed_count": 0, "started_at": None,
        "completed_at": None, "expires_at": (stamp + timedelta(days=7)).isoformat(),
        "lists": lists, "profile_ids": [], "errors": [], "polls": 0}
    result_counts = _import_rows(account, rows, lists, job)
    account.jobs[job["id"]] = job
    queued_view = {**job, "completed_count": 0, "failed_count": 0}
    job["_result"] = result_counts
    from .resources import import_job_resource

    return Response(202, {"data": import_job_resource(queued_view, req.base_url)})


def _import_rows(account: AccountState, rows: list[dict[str, Any]], lists: list[str],
                 job: dict[str, Any]) -> tuple[int, int]:
    done = failed = 0
    stamp = now_iso()  # one time for the job's rows
    for i, row in enumerate(rows):
        try:
            attrs, location, properties = _split(row.get("attributes") or {})
            try:  # pointers relative to the row: built only for a row that fails
                rules.check_email(attrs.get("email"), "/attributes/email")
                rules.check_phone(attrs.get("phone_number"), "/attributes/phone_number")
                rules.check_identifier(attrs, "/attributes", row.get("id"))
                rules.check_profile_size(row, "")
            except ApiError as exc:
                raise exc.under(f"/data/attributes/profiles/data/{i}") from None
            profile, _ = account.upsert(attrs, profile_id=row.get("id"), location=location,
                                        properties=properties, meta=row.get("meta"),
                                        stamp=stamp)
        except ApiError as exc:
            failed += 1
            job["errors"].append({"type": "import-error", "id": str(uuid.uuid4()), "attributes": {
                "code": exc.code, "title": exc.title, "detail": exc.detail,
                "source": {"pointer": exc.pointer or f"/data/attributes/profiles/data/{i}"},
                "original_payload": row}})
            continue
        done += 1
        job["profile_ids"].append(profile.id)
        for list_id in lists:
            account.members.setdefault(list_id, {})[profile.id] = None
    return done, failed


def get_bulk_import_job(req: Request) -> Response:
    """Job status: `queued` until the first poll after creation, then `complete` with counts."""
    assert req.account is not None
    job = req.account.jobs.get(req.params["job_id"])
    if job is None:
        raise not_found(f"A bulk import job with id {req.params['job_id']} does not exist.")
    if job["status"] != "complete":
        done, failed = job["_result"]
        now = datetime.now(UTC).isoformat()
        job.update(status="complete", completed_count=done, failed_count=failed,
                   started_at=job["created_at"], completed_at=now)
    from .resources import import_job_resource

    return Response(200, {"data": import_job_resource(job, req.base_url)})


def get_import_errors(req: Request) -> Response:
    assert req.account is not None
    job = req.account.jobs.get(req.params["id"])
    if job is None:
        raise not_found(f"A bulk import job with id {req.params['id']} does not exist.")
    errors = job["errors"]
    start, size = page_window(req, len(errors), 20, 100)
    return Response(200, collection(errors[start:start + size],
                                     *page_links(req, start, size, len(errors))))
