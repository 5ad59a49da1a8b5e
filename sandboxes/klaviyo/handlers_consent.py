"""Consent: bulk subscribe (≤1,000 profiles) and bulk unsubscribe (≤100 profiles) jobs.

Jobs are applied at once and answered 202 with no body, like Klaviyo's asynchronous jobs.
A subscribe records one consent record per profile and channel (`email`, `sms`, or
`<channel>_<kind>` for non-marketing kinds) with the list and `custom_source`, and adds the
profile to the list. An unsubscribe from a list the profile is not in is global (spec warning).
"""

from __future__ import annotations

from typing import Any

from . import rules
from .errors import ApiError, invalid
from .state import AccountState, Profile
from .web import Request, Response


def _channels(subscriptions: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for channel, kinds in (subscriptions or {}).items():
        for kind, value in (kinds or {}).items():
            if isinstance(value, dict) and "consent" in value:
                out.append((channel if kind == "marketing" else f"{channel}_{kind}", value))
    return out


def _list_id(req: Request) -> str | None:
    rel = ((req.body["data"].get("relationships") or {}).get("list") or {}).get("data")
    if not rel:
        return None
    assert req.account is not None
    req.account.get_list(rel["id"], "/data/relationships/list/data/id")
    return str(rel["id"])


def _profile(account: AccountState, item: dict[str, Any], pointer: str) -> Profile:
    attrs = item["attributes"]
    ids = {k: attrs[k] for k in ("email", "phone_number") if attrs.get(k)}
    profile_id = item.get("id") if item.get("id") in account.profiles else None
    try:  # an unknown id falls back to email/phone lookup (the job is asynchronous at Klaviyo)
        profile, _ = account.upsert(ids, profile_id=profile_id)
    except ApiError as exc:
        if exc.code != "duplicate_profile":
            raise
        profile = account.profiles[exc.meta["duplicate_profile_id"]]
    return profile


def _check_profiles(items: list[dict[str, Any]], base: str) -> None:
    for i, item in enumerate(items):
        attrs = item["attributes"]
        pointer = f"{base}/{i}"
        rules.check_email(attrs.get("email"), f"{pointer}/attributes/email")
        rules.check_phone(attrs.get("phone_number"), f"{pointer}/attributes/phone_number")
        rules.check_identifier(attrs, f"{pointer}/attributes", item.get("id"),
                               identifiers=("email", "phone_number"))
        subs = attrs.get("subscriptions") or {}
        if "email" in subs and not attrs.get("email") and not item.get("id"):
            raise invalid("An email subscription needs an email address.",
                          pointer=f"{pointer}/attributes/email")
        if "sms" in subs and not attrs.get("phone_number") and not item.get("id"):
            raise invalid("An SMS subscription needs a phone number.",
                          pointer=f"{pointer}/attributes/phone_number")


def bulk_subscribe_profiles(req: Request) -> Response:
    account = req.account
    assert account is not None
    attrs = req.body["data"]["attributes"]
    base = "/data/attributes/profiles/data"
    items = attrs["profiles"]["data"]
    rules.check_count(items, rules.MAX_SUBSCRIBE, base, "profiles")
    historical = bool(attrs.get("historical_import"))
    _check_profiles(items, base)
    for i, item in enumerate(items):
        rules.check_consent_time(item["attributes"].get("subscriptions") or {}, historical,
                                 f"{base}/{i}/attributes/subscriptions")
    list_id = _list_id(req)
    for i, item in enumerate(items):
        profile = _profile(account, item, f"{base}/{i}")
        for channel, value in _channels(item["attributes"].get("subscriptions") or {}):
            account.subscribe(profile, channel, list_id=list_id,
                              custom_source=attrs.get("custom_source"),
                              consented_at=value.get("consented_at"))
        if list_id is not None:
            account.members.setdefault(list_id, {})[profile.id] = None
    return Response(202)


def bulk_unsubscribe_profiles(req: Request) -> Response:
    account = req.account
    assert account is not None
    attrs = req.body["data"]["attributes"]
    base = "/data/attributes/profiles/data"
    items = attrs["profiles"]["data"]
    rules.check_count(items, rules.MAX_UNSUBSCRIBE, base, "profiles")
    _check_profiles(items, base)
    for i, item in enumerate(items):
        push = (item["attributes"].get("subscriptions") or {}).get("push")
        if push is not None and not push.get("tokens"):
            raise invalid("push.tokens is required when unsubscribing from push.",
                          pointer=f"{base}/{i}/attributes/subscriptions/push/tokens")
    list_id = _list_id(req)
    for i, item in enumerate(items):
        profile = _profile(account, item, f"{base}/{i}")
        for channel, _value in _channels(item["attributes"].get("subscriptions") or {}):
            account.unsubscribe(profile, channel, list_id)
    return Response(202)
