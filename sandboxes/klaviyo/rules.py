"""Contract rules Klaviyo enforces but its JSON schemas do not carry (klaviyo-api.md §13).

Contract: each `check_*` raises `ApiError` 400 `invalid` with a JSON pointer into the body.
Limits: 1,000 events / list ids / subscriptions per call, 100 unsubscriptions, 10,000 profiles
per import, 5 MB bodies, 100 KB per profile and per string, E.164 phones, at least one
identifier, `consented_at` only with `historical_import`, metric names under 128 characters,
at most 400 event properties, event time after 1990 and at most one year ahead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from .errors import ApiError, invalid

MAX_BODY = 5 * 1024 * 1024
MAX_PROFILE_BYTES = 100 * 1024
MAX_STRING = 100 * 1024
MAX_EVENTS = 1000
MAX_LIST_MEMBERS = 1000
MAX_SUBSCRIBE = 1000
MAX_UNSUBSCRIBE = 100
MAX_IMPORT = 10000
MAX_EVENT_PROPERTIES = 400
MAX_METRIC_NAME = 128

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
EMAIL = re.compile(r"^[^@\s\"(),:;<>\[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
IDENTIFIERS = ("email", "phone_number", "external_id", "anonymous_id", "_kx")


def body_too_large(size: int) -> ApiError:
    return ApiError(413, "request_too_large",
                    f"Request body is {size} bytes; the limit is {MAX_BODY} bytes (5 MB).",
                    pointer="/")


def valid_email(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 254 and EMAIL.match(value) is not None


def valid_phone(value: Any) -> bool:
    return isinstance(value, str) and E164.match(value) is not None


def check_email(value: Any, pointer: str) -> None:
    if value is not None and not valid_email(value):
        raise invalid(f"Invalid email address: {str(value)[:100]!r}.", pointer=pointer)


def check_phone(value: Any, pointer: str) -> None:
    if value is not None and not valid_phone(value):
        raise invalid("Invalid phone number format (Example of a valid format: +13239169023).",
                      pointer=pointer)


def check_count(items: list[Any], limit: int, pointer: str, what: str) -> None:
    if len(items) > limit:
        raise invalid(f"Too many {what}: {len(items)} given, at most {limit} allowed per request.",
                      pointer=pointer)


def has_identifier(attrs: dict[str, Any], profile_id: Any = None,
                   identifiers: tuple[str, ...] = IDENTIFIERS) -> bool:
    if profile_id:
        return True
    for name in identifiers:  # a loop, not any(<generator>): called for every bulk record
        value = attrs.get(name)
        if value is not None and value != "":
            return True
    return False


def check_identifier(attrs: dict[str, Any], pointer: str, profile_id: Any = None,
                     identifiers: tuple[str, ...] = IDENTIFIERS) -> None:
    if not has_identifier(attrs, profile_id, identifiers):
        names = ", ".join(i for i in identifiers if i != "_kx")
        raise invalid(f"At least one profile identifier is required ({names}).", pointer=pointer)


def check_profile_size(resource: Any, pointer: str) -> None:
    if len(orjson.dumps(resource)) > MAX_PROFILE_BYTES:
        raise invalid("Profile payload exceeds 100 KB.", pointer=pointer)


def _has_long_string(value: Any) -> bool:
    """Any string inside `value` over 100 KB? (No pointers built: the common, passing case.)"""
    if len(orjson.dumps(value)) <= MAX_STRING:  # no string is longer than the JSON holding it
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) > MAX_STRING:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def check_strings(value: Any, pointer: str) -> None:
    """Every string inside `value` at most 100 KB; the pointer names the first one over."""
    if not _has_long_string(value):
        return
    stack = [(value, pointer)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if len(item) > MAX_STRING:
                raise invalid("String values may be at most 100 KB.", pointer=where)
        elif isinstance(item, dict):
            stack.extend((v, f"{where}/{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(item))


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_event(attrs: dict[str, Any], pointer: str, metric_name: Any,
                now: datetime | None = None) -> None:
    """Metric name length, property count, string sizes and time range of one event (`now`:
    the request's time, read once for a bulk request)."""
    if not isinstance(metric_name, str) or not metric_name.strip():
        raise invalid("A metric name is required.",
                      pointer=f"{pointer}/metric/data/attributes/name")
    if len(metric_name) >= MAX_METRIC_NAME:
        raise invalid("Metric name must be fewer than 128 characters.",
                      pointer=f"{pointer}/metric/data/attributes/name")
    properties = attrs.get("properties") or {}
    if len(properties) > MAX_EVENT_PROPERTIES:
        raise invalid("Events may have at most 400 properties.", pointer=f"{pointer}/properties")
    check_strings(properties, f"{pointer}/properties")
    when = attrs.get("time")
    if when is not None:
        moment = parse_time(when)
        now = now or datetime.now(UTC)
        if moment.year < 1990 or moment > now + timedelta(days=365):
            raise invalid("Event time must be after 1990 and at most one year in the future.",
                          pointer=f"{pointer}/time")


def check_consent_time(subscriptions: dict[str, Any], historical: bool, pointer: str) -> None:
    """`consented_at` only with `historical_import: true`, where it is required and in the past."""
    for channel, kinds in (subscriptions or {}).items():
        for kind, value in (kinds or {}).items():
            if not isinstance(value, dict) or "consent" not in value:
                continue
            where = f"{pointer}/{channel}/{kind}/consented_at"
            stamp = value.get("consented_at")
            if stamp is not None and not historical:
                raise invalid("consented_at is only allowed when historical_import is true.",
                              pointer=where)
            if historical and stamp is None:
                raise invalid("consented_at is required when historical_import is true.",
                              pointer=where)
            if stamp is not None and parse_time(stamp) > datetime.now(UTC):
                raise invalid("consented_at must be in the past.", pointer=where)
