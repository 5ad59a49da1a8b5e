"""JSON:API documents the sandbox answers with, and the `filter=` grammar it understands."""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import ApiError
from .state import AccountState, ListRecord, Metric, Profile

_FILTER = re.compile(r'([a-z-]+)\(([\w.]+),\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\]|[^,)]*)\)')


def parse_filter(text: str | None, allowed: dict[str, set[str]]) -> list[tuple[str, str, Any]]:
    """`equals(email,"a@b.c"),any(id,["x"])` -> [(op, field, value)]; 400 on anything else."""
    if not text:
        return []
    found = list(_FILTER.finditer(text))
    rebuilt = ",".join(m.group(0) for m in found)
    if not found or rebuilt.replace(" ", "") != text.replace(" ", ""):
        raise _bad_filter(f"Invalid filter provided: {text[:200]}")
    out = []
    for match in found:
        op, field, raw = match.groups()
        if field not in allowed or op not in allowed[field]:
            raise _bad_filter(f"'{op}' operator for field '{field}' is not supported.")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if op == "any" and not isinstance(value, list):
            raise _bad_filter(f"'any' needs a list value for field '{field}'.")
        out.append((op, field, value))
    return out


def _bad_filter(detail: str) -> ApiError:
    return ApiError(400, "invalid", detail, parameter="filter")


def matches(filters: list[tuple[str, str, Any]], get: Any) -> bool:
    for op, field, value in filters:
        actual = get(field)
        if field == "email" and isinstance(actual, str):
            actual = actual.lower()
            value = [v.lower() for v in value] if isinstance(value, list) else str(value).lower()
        if op == "equals" and actual != value:
            return False
        if op == "any" and actual not in value:
            return False
    return True


def profile_resource(account: AccountState, profile: Profile, base: str,
                     additional: str | None = None) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        name: profile.attrs.get(name)
        for name in ("email", "phone_number", "external_id", "anonymous_id", "first_name",
                     "last_name", "organization", "locale", "title", "image")
    }
    attrs.update(created=profile.created, updated=profile.updated, last_event_date=None,
                 location=profile.location or None, properties=dict(profile.properties))
    if additional and "subscriptions" in additional.split(","):
        attrs["subscriptions"] = subscriptions_view(account, profile)
    return {"type": "profile", "id": profile.id, "attributes": attrs,
            "links": {"self": f"{base}/api/profiles/{profile.id}/"}}


def subscriptions_view(account: AccountState, profile: Profile) -> dict[str, Any]:
    def channel_view(channel: str) -> dict[str, Any]:
        records = [r for k, r in account.consents.items() if k[0] == profile.id and k[1] == channel]
        unsubscribed = any(u["profile_id"] == profile.id and u["channel"] == channel
                           and u["scope"] == "global" for u in account.unsubscriptions)
        consent = ("SUBSCRIBED" if records else
                   "UNSUBSCRIBED" if unsubscribed else "NEVER_SUBSCRIBED")
        first = records[0] if records else {}
        flag = "can_receive_email_marketing" if channel == "email" else "can_receive_sms_marketing"
        return {flag: bool(records), "consent": consent,
                "consent_timestamp": first.get("consented_at"),
                "method": "API" if records else None,
                "method_detail": first.get("custom_source"), "last_updated": first.get(
                    "consented_at"), "suppression": [],
                "list_suppressions": []}

    return {"email": {"marketing": channel_view("email")},
            "sms": {"marketing": channel_view("sms")}}


def list_resource(record: ListRecord, base: str, profile_count: int | None = None
                  ) -> dict[str, Any]:
    attrs: dict[str, Any] = {"name": record.name, "created": record.created,
                             "updated": record.updated, "opt_in_process": record.opt_in_process}
    if profile_count is not None:
        attrs["profile_count"] = profile_count
    return {"type": "list", "id": record.id, "attributes": attrs,
            "links": {"self": f"{base}/api/lists/{record.id}/"}}


def metric_resource(metric: Metric, base: str) -> dict[str, Any]:
    integration = {"object": "integration", "id": "0rG4eQ", "key": "api", "name": "API",
                   "category": "API"}
    return {"type": "metric", "id": metric.id,
            "attributes": {"name": metric.name, "created": metric.created,
                           "updated": metric.created, "integration": integration},
            "links": {"self": f"{base}/api/metrics/{metric.id}/"}}


def account_resource(account: AccountState, base: str) -> dict[str, Any]:
    contact = {"default_sender_name": account.name,
               "default_sender_email": "store@sandbox.invalid",
               "website_url": "https://sandbox.invalid", "organization_name": account.name,
               "street_address": {"address1": "1 Sandbox Way", "address2": "", "city": "Boston",
                                  "region": "MA", "country": "US", "zip": "02110"}}
    return {"type": "account", "id": account.id,
            "attributes": {"test_account": False, "contact_information": contact,
                           "industry": "Retail", "timezone": "UTC", "preferred_currency": "USD",
                           "public_api_key": account.id, "locale": "en-US"},
            "links": {"self": f"{base}/api/accounts/{account.id}/"}}


def import_job_resource(job: dict[str, Any], base: str) -> dict[str, Any]:
    attrs = {k: job[k] for k in ("status", "created_at", "total_count", "completed_count",
                                 "failed_count", "completed_at", "expires_at", "started_at")}
    return {"type": "profile-bulk-import-job", "id": job["id"], "attributes": attrs,
            "relationships": {
                "lists": {"data": [{"type": "list", "id": i} for i in job["lists"]]},
                "profiles": {"links": {"self": f"{base}/api/profile-bulk-import-jobs/"
                                               f"{job['id']}/relationships/profiles/"}},
                "import-errors": {"links": {"self": f"{base}/api/profile-bulk-import-jobs/"
                                                    f"{job['id']}/import-errors/"}}},
            "links": {"self": f"{base}/api/profile-bulk-import-jobs/{job['id']}/"}}
