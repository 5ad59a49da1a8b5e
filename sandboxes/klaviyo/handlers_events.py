"""Events (single and bulk), accounts and metrics.

Events are deduplicated per (profile, metric, unique_id) — the first one wins and later ones are
dropped silently (still 202) and counted; without `unique_id` the event time truncated to the
second is the key. A bulk request that repeats a `unique_id` for the same profile and metric is
rejected whole (400) before anything is processed, as the spec says.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import rules
from .errors import ApiError, invalid
from .ids import now_iso
from .resources import account_resource, matches, metric_resource, parse_filter
from .state import AccountState, Profile
from .web import Request, Response, collection, page_links, page_window

METRIC_FILTERS = {"integration.name": {"equals"}, "integration.category": {"equals"}}


def event_profile(account: AccountState, pdata: dict[str, Any], meta: dict[str, Any] | None,
                  pointer: str | None = None, stamp: str | None = None) -> Profile:
    """Find or create the event's profile; identifier conflicts resolve to the email's profile.
    `pointer` (where the profile sits in the body) asks for its email, phone and identifier to
    be checked first; None means the caller already checked them."""
    attrs = dict(pdata.get("attributes") or {})
    attrs.pop("meta", None)
    location = attrs.pop("location", None)
    properties = attrs.pop("properties", None)
    if pointer is not None:
        rules.check_email(attrs.get("email"), f"{pointer}/attributes/email")
        rules.check_phone(attrs.get("phone_number"), f"{pointer}/attributes/phone_number")
        rules.check_identifier(attrs, f"{pointer}/attributes", pdata.get("id"))
    try:
        profile, _ = account.upsert(attrs, profile_id=pdata.get("id"), location=location,
                                    properties=properties, meta=meta, stamp=stamp)
    except ApiError as exc:
        if exc.code != "duplicate_profile":
            raise
        profile = account.profiles[exc.meta["duplicate_profile_id"]]
    return profile


def _identity(pdata: dict[str, Any]) -> str:
    attrs = pdata.get("attributes") or {}
    if pdata.get("id"):
        return "id:" + str(pdata["id"])
    for name in ("email", "phone_number", "external_id", "anonymous_id", "_kx"):
        if attrs.get(name):
            value = str(attrs[name])
            return f"{name}:{value.lower() if name == 'email' else value}"
    return ""


def create_event(req: Request) -> Response:
    """POST /api/events: 202 with no body."""
    account = req.account
    assert account is not None
    attrs = req.body["data"]["attributes"]
    metric_name = attrs["metric"]["data"]["attributes"].get("name")
    rules.check_event(attrs, "/data/attributes", metric_name)
    pdata = attrs["profile"]["data"]
    rules.check_identifier(pdata.get("attributes") or {},
                           "/data/attributes/profile/data/attributes", pdata.get("id"))
    profile = event_profile(account, pdata, (pdata.get("attributes") or {}).get("meta"),
                            "/data/attributes/profile/data")
    account.add_event(profile, metric_name, attrs)
    return Response(202)


def bulk_create_events(req: Request) -> Response:
    """POST /api/event-bulk-create-jobs: all checks first, then every event; 202 no body."""
    account = req.account
    assert account is not None
    base = "/data/attributes/events-bulk-create/data"
    entries = req.body["data"]["attributes"]["events-bulk-create"]["data"]
    total = sum(len(e["attributes"]["events"]["data"]) for e in entries)
    if total > rules.MAX_EVENTS:
        raise invalid(f"Too many events: {total} given, at most {rules.MAX_EVENTS} allowed per "
                      "request.", pointer=base)
    seen: set[tuple[str, str, str]] = set()
    now = datetime.now(UTC)
    for i, entry in enumerate(entries):
        pdata = entry["attributes"]["profile"]["data"]
        pattrs = pdata.get("attributes") or {}
        try:
            rules.check_identifier(pattrs, "/attributes", pdata.get("id"))
            rules.check_email(pattrs.get("email"), "/attributes/email")
            rules.check_phone(pattrs.get("phone_number"), "/attributes/phone_number")
        except ApiError as exc:
            raise exc.under(f"{base}/{i}/attributes/profile/data") from None
        who = _identity(pdata)
        for j, event in enumerate(entry["attributes"]["events"]["data"]):
            eattrs = event["attributes"]
            name = eattrs["metric"]["data"]["attributes"].get("name")
            try:
                rules.check_event(eattrs, "", name, now)
            except ApiError as exc:
                raise exc.under(f"{base}/{i}/attributes/events/data/{j}/attributes") from None
            unique_id = eattrs.get("unique_id")
            if unique_id is not None:
                key = (who, str(name), str(unique_id))
                if key in seen:
                    raise invalid(f"Duplicate unique_id {unique_id!r} for the same profile and "
                                  "metric in one request; no events were processed.",
                                  pointer=f"{base}/{i}/attributes/events/data/{j}/attributes"
                                          "/unique_id")
                seen.add(key)
    received = now_iso()
    for entry in entries:
        pdata = entry["attributes"]["profile"]["data"]
        profile = event_profile(account, pdata, pdata.get("meta"),  # all checked above
                                stamp=received)
        for event in entry["attributes"]["events"]["data"]:
            eattrs = event["attributes"]
            account.add_event(profile, eattrs["metric"]["data"]["attributes"]["name"], eattrs,
                              received)
    return Response(202)


def get_accounts(req: Request) -> Response:
    """GET /api/accounts: exactly one account, the key's."""
    assert req.account is not None
    return Response(200, collection([account_resource(req.account, req.base_url)],
                                    f"{req.base_url}/api/accounts/"))


def get_metrics(req: Request) -> Response:
    assert req.account is not None
    filters = parse_filter(req.arg("filter"), METRIC_FILTERS)
    integration = {"integration.name": "API", "integration.category": "API"}
    found = [m for m in req.account.metrics.values()
             if matches(filters, lambda f: integration.get(f))]
    start, size = page_window(req, len(found), 200, 200)
    items = [metric_resource(m, req.base_url) for m in found[start:start + size]]
    return Response(200, collection(items, *page_links(req, start, size, len(found))))
