"""In-memory state of one sandbox account: profiles, lists, consent, events, metrics, jobs.

Contract: every method expects the caller to hold `AccountState.lock` (the HTTP layer takes it
once per request), so a request is applied atomically like one Klaviyo request would be.
Profile identity follows Klaviyo: email (case-insensitive) and phone number identify a profile;
`external_id` and `anonymous_id` only when no email/phone matched; an upsert whose email and phone
belong to two different profiles is a 409 `duplicate_profile` (reported id = the email's profile).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError, not_found
from .ids import now_iso, short_id, ulid

PROFILE_FIELDS = ("email", "phone_number", "external_id", "anonymous_id", "_kx", "first_name",
                  "last_name", "organization", "locale", "title", "image")
_FIELDS = frozenset(PROFILE_FIELDS)
_UNIQUE = ("email", "phone_number")  # identifiers one profile owns alone
REQUEST_LOG_SIZE = 20000


@dataclass
class Profile:
    """One profile; `attrs` holds the PROFILE_FIELDS that are set, `location`/`properties` dicts."""

    id: str
    created: str
    updated: str
    attrs: dict[str, Any] = field(default_factory=dict)
    location: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.attrs.get(name)

    def admin_view(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        for name in PROFILE_FIELDS:
            if name != "_kx":
                out[name] = self.attrs.get(name)
        out.update(location=dict(self.location), properties=dict(self.properties),
                   created=self.created, updated=self.updated)
        return out


@dataclass
class ListRecord:
    id: str
    name: str
    opt_in_process: str
    created: str
    updated: str


@dataclass
class Metric:
    id: str
    name: str
    created: str


@dataclass
class Flow:
    id: str
    name: str
    metric_id: str | None
    status: str  # draft | manual | live
    created: str
    updated: str
    archived: bool = False
    definition: dict[str, Any] = field(default_factory=dict)


class AccountState:
    """Everything Klaviyo would hold for one account, plus what the sandbox observed."""

    def __init__(self, account_id: str, name: str) -> None:
        self.id = account_id
        self.name = name
        self.created = now_iso()
        self.lock = threading.RLock()
        self.profiles: dict[str, Profile] = {}
        self._by: dict[str, dict[str, str]] = {"email": {}, "phone_number": {}, "external_id": {},
                                                "anonymous_id": {}}
        self.lists: dict[str, ListRecord] = {}
        self.members: dict[str, dict[str, None]] = {}
        self.consents: dict[tuple[str, str, str | None], dict[str, Any]] = {}
        self.unsubscriptions: list[dict[str, Any]] = []
        self.metrics: dict[str, Metric] = {}
        self.flows: dict[str, Flow] = {}
        self.events: list[dict[str, Any]] = []
        self._event_keys: set[tuple[str, str, str]] = set()
        self._event_prefix = ulid()[:18]  # event ids: ULID-like prefix + sequence (cheap)
        self.duplicates_dropped = 0
        self.jobs: dict[str, dict[str, Any]] = {}
        self.deletions: list[dict[str, Any]] = []  # data-privacy deletion jobs (handlers_privacy)
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self.request_count = 0
        self.throttled = 0

    # ---- profiles -------------------------------------------------------------------------
    @staticmethod
    def _key(name: str, value: Any) -> str:
        return str(value).strip().lower() if name == "email" else str(value)

    def lookup(self, name: str, value: Any) -> Profile | None:
        """The profile whose identifier `name` equals `value` (id, email, phone, external id)."""
        if value is None:
            return None
        if name == "id":
            return self.profiles.get(str(value))
        pid = self._by.get(name, {}).get(self._key(name, value))
        return self.profiles.get(pid) if pid else None

    def resolve(self, attrs: dict[str, Any], profile_id: str | None = None) -> Profile | None:
        """Find the profile an upsert addresses; 409 when email and phone disagree, 404 bad id."""
        by_email = self.lookup("email", attrs.get("email"))
        by_phone = self.lookup("phone_number", attrs.get("phone_number"))
        target: Profile | None = None
        if profile_id:
            target = self.profiles.get(profile_id)
            if target is None:
                raise not_found(f"A profile with id {profile_id} does not exist.", "/data/id")
        if target is None and by_email and by_phone and by_email.id != by_phone.id:
            raise duplicate(by_email.id)
        for other in (by_email, by_phone):
            if other is not None and target is not None and other.id != target.id:
                raise duplicate(other.id)
            target = target or other
        if target is None and "email" not in attrs and "phone_number" not in attrs:
            target = self.lookup("external_id", attrs.get("external_id")) or self.lookup(
                "anonymous_id", attrs.get("anonymous_id"))
        return target

    def upsert(self, attrs: dict[str, Any], *, profile_id: str | None = None,
               location: dict[str, Any] | None = None, properties: dict[str, Any] | None = None,
               meta: dict[str, Any] | None = None, create_only: bool = False,
               stamp: str | None = None) -> tuple[Profile, bool]:
        """Create or update a profile; returns (profile, created). `None` values clear fields.
        `stamp`: the created/updated time (one per bulk request saves a clock read per row)."""
        target = self.resolve(attrs, profile_id)
        if target is not None and create_only:
            raise ApiError(409, "duplicate_profile",
                           "A profile already exists with one of these identifiers.",
                           pointer="/data/attributes", meta={"duplicate_profile_id": target.id})
        created = target is None
        stamp = stamp or now_iso()
        if target is None:
            target = Profile(id=ulid(), created=stamp, updated=stamp)
            self.profiles[target.id] = target
        self.apply(target, attrs, location, properties, meta, stamp)
        return target, created

    def apply(self, profile: Profile, attrs: dict[str, Any], location: dict[str, Any] | None,
              properties: dict[str, Any] | None, meta: dict[str, Any] | None,
              stamp: str | None = None) -> None:
        """Patch semantics: omitted keeps, None clears; identifier indexes follow."""
        self._apply_attrs(profile, attrs)
        if location is not None:
            profile.location.update(location)
        if properties:
            profile.properties.update(properties)
        patch = meta.get("patch_properties") if meta else None
        if patch:
            _patch_properties(profile.properties, patch)
        profile.updated = stamp or now_iso()

    def _apply_attrs(self, profile: Profile, attrs: dict[str, Any]) -> None:
        """The PROFILE_FIELDS of `attrs` onto `profile`, keeping the identifier indexes in step
        (one loop with no call per field: every profile of a bulk import goes through it)."""
        for name, value in attrs.items():
            if name not in _FIELDS:
                continue
            old = profile.attrs.get(name)
            if value == old and type(value) is type(old):
                continue  # unchanged (an event's email on a known profile): indexes already agree
            index = self._by.get(name)
            if index is not None:
                key = self._key(name, value) if value is not None else ""
                if (value is not None and name in _UNIQUE
                        and (owner := index.get(key)) and owner != profile.id):
                    raise duplicate(owner)
                if old is not None:
                    index.pop(self._key(name, old), None)
                if value is not None:
                    index[key] = profile.id
            if value is None:
                profile.attrs.pop(name, None)
            else:
                profile.attrs[name] = value

    def delete_profile(self, profile: Profile) -> None:
        """Erase a profile as a data-privacy deletion does: the profile, its identifier
        indexes, list memberships, consent records and events."""
        self.profiles.pop(profile.id, None)
        for name, index in self._by.items():
            value = profile.attrs.get(name)
            if value is not None and index.get(self._key(name, value)) == profile.id:
                del index[self._key(name, value)]
        for members in self.members.values():
            members.pop(profile.id, None)
        for key in [k for k in self.consents if k[0] == profile.id]:
            del self.consents[key]
        self.unsubscriptions = [u for u in self.unsubscriptions if u["profile_id"] != profile.id]
        self.events = [e for e in self.events if e["profile_id"] != profile.id]

    # ---- lists ----------------------------------------------------------------------------
    def create_list(self, name: str, opt_in_process: str = "single_opt_in",
                    list_id: str | None = None) -> ListRecord:
        if list_id is not None and list_id in self.lists:
            raise ApiError(400, "invalid", f"List {list_id} already exists.")
        while list_id is None or list_id in self.lists:
            list_id = short_id()
        stamp = now_iso()
        record = ListRecord(list_id, name, opt_in_process, stamp, stamp)
        self.lists[list_id] = record
        self.members[list_id] = {}
        return record

    def get_list(self, list_id: str, pointer: str | None = None) -> ListRecord:
        record = self.lists.get(list_id)
        if record is None:
            raise not_found(f"A list with id {list_id} does not exist.", pointer)
        return record

    def delete_list(self, list_id: str) -> None:
        self.get_list(list_id)
        del self.lists[list_id]
        self.members.pop(list_id, None)

    # ---- consent --------------------------------------------------------------------------
    def subscribe(self, profile: Profile, channel: str, *, list_id: str | None,
                  custom_source: str | None, consented_at: str | None) -> dict[str, Any]:
        record = {"profile_id": profile.id, "email": profile.get("email"),
                  "phone_number": profile.get("phone_number"), "channel": channel,
                  "list_id": list_id, "custom_source": custom_source,
                  "consented_at": consented_at or now_iso()}
        self.consents[(profile.id, channel, list_id)] = record
        return record

    def unsubscribe(self, profile: Profile, channel: str, list_id: str | None) -> None:
        in_list = list_id is not None and profile.id in self.members.get(list_id, {})
        scope = "list" if in_list else "global"
        for key in [k for k in self.consents if k[0] == profile.id and k[1] == channel]:
            if scope == "global" or key[2] == list_id:
                del self.consents[key]
        if in_list and list_id is not None:
            self.members[list_id].pop(profile.id, None)
        self.unsubscriptions.append({"profile_id": profile.id, "email": profile.get("email"),
                                     "phone_number": profile.get("phone_number"),
                                     "channel": channel, "list_id": list_id, "scope": scope,
                                     "unsubscribed_at": now_iso()})

    # ---- metrics and events ---------------------------------------------------------------
    def metric(self, name: str) -> Metric:
        found = self.metrics.get(name)
        if found is None:
            found = Metric(short_id(), name, now_iso())
            self.metrics[name] = found
        return found

    def add_flow(self, *, name: str, metric_id: str | None, definition: dict[str, Any],
                 status: str = "draft") -> Flow:
        at = now_iso()
        flow = Flow(short_id(), name, metric_id, status, at, at, definition=definition)
        self.flows[flow.id] = flow
        return flow

    def add_event(self, profile: Profile, metric_name: str, attrs: dict[str, Any],
                  received: str | None = None) -> bool:
        """Store an event; False (and counted) when its unique_id was seen for profile+metric.

        `received` (one timestamp per request) saves a clock read per event in bulk requests.
        """
        metric = self.metric(metric_name)
        received = received or now_iso()
        when = attrs.get("time") or received
        unique_id = attrs.get("unique_id") or _second(when)
        key = (profile.id, metric.id, str(unique_id))
        if key in self._event_keys:
            self.duplicates_dropped += 1
            return False
        self._event_keys.add(key)
        self.events.append({"id": f"{self._event_prefix}{len(self.events):08d}",
                            "metric": metric.name, "metric_id": metric.id,
                            "profile_id": profile.id, "unique_id": attrs.get("unique_id"),
                            "properties": attrs.get("properties") or {}, "time": when,
                            "value": attrs.get("value"),
                            "value_currency": attrs.get("value_currency"),
                            "received": received})
        return True


def duplicate(profile_id: str) -> ApiError:
    """409 `duplicate_profile` as Klaviyo answers it (not in the spec; observed in the field)."""
    return ApiError(409, "duplicate_profile",
                    "A profile already exists with one of these identifiers.",
                    pointer="/data/attributes", meta={"duplicate_profile_id": profile_id})


def _patch_properties(props: dict[str, Any], patch: dict[str, Any]) -> None:
    """Klaviyo's `meta.patch_properties`: `unset` keys, `append`/`unappend` list values."""
    for key in _as_keys(patch.get("unset")):
        props.pop(key, None)
    for key, value in (patch.get("append") or {}).items():
        current = props.get(key)
        items = current if isinstance(current, list) else ([] if current is None else [current])
        props[key] = [*items, *(value if isinstance(value, list) else [value])]
    for key, value in (patch.get("unappend") or {}).items():
        current = props.get(key)
        if isinstance(current, list):
            drop = value if isinstance(value, list) else [value]
            props[key] = [v for v in current if v not in drop]


def _as_keys(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _second(when: str) -> str:
    try:
        return datetime.fromisoformat(when).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return when[:19]
