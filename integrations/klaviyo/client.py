"""The one HTTP client for Klaviyo's REST API (revision 2026-07-15).

HTTP only: one method per Klaviyo operation, JSON:API envelopes built here, typed errors from
`errors.classify`, no models and no retries (retry policy belongs to the sync engine, which knows
about rate-limit windows and leases). Every call, successful or not, is reported to `observer`
as an `Attempt` so the caller can keep a `SyncAttempt` row; the key is never part of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests
from django.conf import settings

from integrations.klaviyo.errors import KlaviyoError, KlaviyoUnavailableError, classify

JSON_API = "application/vnd.api+json"
BACK_IN_STOCK_METRIC = "Back in Stock"


@dataclass
class Attempt:
    """What one outbound call did, for the support timeline (no secrets)."""

    operation: str
    method: str
    path: str
    status: int | None
    duration_ms: int
    records: int = 1
    error: KlaviyoError | None = None


@dataclass
class KlaviyoResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def next_page(self) -> tuple[str, dict[str, str]] | None:
        """(path, params) of the collection's `links.next`, or None on the last page."""
        following = (self.body or {}).get("links", {}).get("next") if isinstance(
            self.body, dict) else None
        if not following:
            return None
        parsed = urlsplit(following)
        return parsed.path, dict(parse_qsl(parsed.query))

    @property
    def partial_failure_fields(self) -> list[str]:
        raw = self.headers.get("x-klaviyo-partial-failure", "")
        return [name.strip() for name in raw.split(",") if name.strip()]


Observer = Callable[[Attempt], None]


class KlaviyoClient:
    """A private-key client. Build one per merchant per job; reuse `session` across clients."""

    def __init__(
        self,
        private_key: str,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        session: requests.Session | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._key = private_key
        self.base_url = (base_url or settings.KLAVIYO_API_URL).rstrip("/")
        self.timeout = (3.05, timeout or settings.KLAVIYO_TIMEOUT_SECONDS)
        self.session = session or requests.Session()
        self.observer = observer

    def __repr__(self) -> str:  # never show the key, even in a debugger or a traceback
        return f"<KlaviyoClient key=pk_…{self._key[-4:]} base={self.base_url}>"

    # -- transport ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        records: int = 1,
    ) -> KlaviyoResponse:
        """Send one request; return the 2xx response or raise the classified KlaviyoError."""
        headers = {
            "Authorization": f"Klaviyo-API-Key {self._key}",
            "revision": settings.KLAVIYO_REVISION,
            "Accept": JSON_API,
        }
        if body is not None:
            headers["Content-Type"] = JSON_API
        started = time.monotonic()
        status: int | None = None
        try:
            try:
                encoded = body if isinstance(body, EncodedJSON) else None
                raw = self.session.request(
                    method, self.base_url + path, json=None if encoded is not None else body,
                    data=encoded, params=params, headers=headers, timeout=self.timeout,
                )
            except requests.Timeout as exc:
                raise KlaviyoUnavailableError(message="timed out") from _scrub(exc)
            except requests.RequestException as exc:
                raise KlaviyoUnavailableError(message="connection failed") from _scrub(exc)
            status = raw.status_code
            response_headers = {k.lower(): v for k, v in raw.headers.items()}
            content_type = response_headers.get("content-type", "")
            parsed: Any = None
            if raw.content and "json" in content_type:
                try:
                    parsed = raw.json()
                except ValueError:
                    parsed = None
            if status >= 400:
                raise classify(status, parsed, response_headers, content_type=content_type)
            response = KlaviyoResponse(status=status, body=parsed, headers=response_headers)
        except KlaviyoError as error:
            self._report(operation, method, path, status, started, records, error)
            raise
        self._report(operation, method, path, status, started, records, None)
        return response

    def _report(
        self, operation: str, method: str, path: str, status: int | None, started: float,
        records: int, error: KlaviyoError | None,
    ) -> None:
        if self.observer is not None:
            duration_ms = int((time.monotonic() - started) * 1000)
            self.observer(Attempt(operation, method, path, status, duration_ms, records, error))

    # -- accounts and lists --------------------------------------------------------------------

    def get_account(self) -> dict[str, Any]:
        """The key's account (`GET /api/accounts` returns exactly one). Proves the key works."""
        response = self.request("GET", "/api/accounts", operation="get_accounts")
        accounts = response.data or []
        return accounts[0] if accounts else {}

    def get_lists(self, *, name: str | None = None) -> list[dict[str, Any]]:
        params = {"filter": f"equals(name,{_quote(name)})"} if name else None
        return list(self.request("GET", "/api/lists", operation="get_lists", params=params).data)

    def get_list(self, list_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/api/lists/{list_id}", operation="get_list").data)

    def iter_lists(self, *, max_pages: int = 10) -> list[dict[str, Any]]:
        """Every list of the account (following `links.next`, at most `max_pages` pages)."""
        found: list[dict[str, Any]] = []
        path, params = "/api/lists", None
        for _ in range(max_pages):
            response = self.request("GET", path, operation="get_lists", params=params)
            found.extend(response.data or [])
            following = response.next_page
            if following is None:
                break
            path, params = following
        return found

    def create_list(self, name: str) -> dict[str, Any]:
        body = {"data": {"type": "list", "attributes": {"name": name}}}
        return dict(self.request("POST", "/api/lists", operation="create_list", body=body).data)

    # -- profiles --------------------------------------------------------------------------------

    def upsert_profile(
        self, attributes: dict[str, Any], *, profile_id: str | None = None
    ) -> KlaviyoResponse:
        """Create or update by identifiers (`POST /api/profile-import`); 201 new, 200 updated."""
        data: dict[str, Any] = {"type": "profile", "attributes": attributes}
        if profile_id:
            data["id"] = profile_id
        return self.request(
            "POST", "/api/profile-import", operation="profile_import", body={"data": data}
        )

    def update_profile(self, profile_id: str, attributes: dict[str, Any]) -> KlaviyoResponse:
        """Change a known profile, identifiers included (identify calls cannot do that)."""
        body = {"data": {"type": "profile", "id": profile_id, "attributes": attributes}}
        return self.request(
            "PATCH", f"/api/profiles/{profile_id}", operation="update_profile", body=body
        )

    def find_profiles(self, *, email: str = "", phone: str = "") -> list[dict[str, Any]]:
        field_name, value = ("email", email) if email else ("phone_number", phone)
        params = {"filter": f"equals({field_name},{_quote(value)})"}
        return list(
            self.request("GET", "/api/profiles", operation="get_profiles", params=params).data
        )

    def bulk_import_profiles(
        self, profiles: list[dict[str, Any]], *, list_id: str | None = None
    ) -> str:
        """Start a profile bulk import (≤10,000); returns the job id to poll."""
        return self.bulk_import_encoded_profiles(
            [compact_json(p) for p in profiles], list_id=list_id)

    def bulk_import_encoded_profiles(
        self, profiles: list[str], *, list_id: str | None = None
    ) -> str:
        """`bulk_import_profiles` for profile attributes already serialized to JSON (one string
        per profile): the caller sized the job from these strings, so they are sent as they are
        instead of being serialized a second time. The same request body."""
        relationships = ("" if not list_id else
                         ',"relationships":{"lists":{"data":[{"type":"list","id":'
                         + compact_json(list_id) + "}]}}")
        body = ('{"data":{"type":"profile-bulk-import-job","attributes":{"profiles":{"data":['
                + ",".join('{"type":"profile","attributes":' + p + "}" for p in profiles)
                + "]}}" + relationships + "}}")
        response = self.request(
            "POST", "/api/profile-bulk-import-jobs", operation="bulk_import_profiles",
            body=EncodedJSON(body.encode()), records=len(profiles),
        )
        return str(response.data["id"])

    def get_bulk_import_job(self, job_id: str) -> dict[str, Any]:
        path = f"/api/profile-bulk-import-jobs/{job_id}"
        return dict(self.request("GET", path, operation="get_bulk_import_job").data)

    def get_bulk_import_errors(self, job_id: str) -> list[dict[str, Any]]:
        path = f"/api/profile-bulk-import-jobs/{job_id}/import-errors"
        return list(self.request("GET", path, operation="get_bulk_import_errors").data)

    def add_profiles_to_list(self, list_id: str, profile_ids: Iterable[str]) -> None:
        body = {"data": [{"type": "profile", "id": pid} for pid in profile_ids]}
        self.request(
            "POST", f"/api/lists/{list_id}/relationships/profiles",
            operation="add_profiles_to_list", body=body, records=len(body["data"]),
        )

    def remove_profiles_from_list(self, list_id: str, profile_ids: Iterable[str]) -> None:
        """Take profiles off a list (≤1,000 ids); their marketing consent stays as it is."""
        body = {"data": [{"type": "profile", "id": pid} for pid in profile_ids]}
        self.request(
            "DELETE", f"/api/lists/{list_id}/relationships/profiles",
            operation="remove_profiles_from_list", body=body, records=len(body["data"]),
        )

    # -- consent ---------------------------------------------------------------------------------

    def bulk_subscribe(
        self, profiles: list[dict[str, Any]], *, list_id: str, custom_source: str
    ) -> None:
        """Record marketing consent (≤1,000). Each profile: email/phone_number + subscriptions."""
        body = {
            "data": {
                "type": "profile-subscription-bulk-create-job",
                "attributes": {
                    "custom_source": custom_source,
                    "profiles": {
                        "data": [{"type": "profile", "attributes": p} for p in profiles]
                    },
                },
                "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
            }
        }
        self.request(
            "POST", "/api/profile-subscription-bulk-create-jobs", operation="bulk_subscribe",
            body=body, records=len(profiles),
        )

    def bulk_unsubscribe(self, profiles: list[dict[str, Any]], *, list_id: str) -> None:
        """Withdraw marketing consent (≤100 profiles, identified by email/phone only)."""
        body = {
            "data": {
                "type": "profile-subscription-bulk-delete-job",
                "attributes": {
                    "profiles": {
                        "data": [{"type": "profile", "attributes": p} for p in profiles]
                    }
                },
                "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
            }
        }
        self.request(
            "POST", "/api/profile-subscription-bulk-delete-jobs", operation="bulk_unsubscribe",
            body=body, records=len(profiles),
        )

    # -- events ----------------------------------------------------------------------------------

    def create_event(
        self, *, metric: str, profile: dict[str, Any], properties: dict[str, Any],
        unique_id: str, time_iso: str | None = None,
    ) -> None:
        """One event (`POST /api/events`); `profile` is the profile's attributes block."""
        attributes: dict[str, Any] = {
            "properties": properties,
            "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
            "profile": {"data": {"type": "profile", "attributes": profile}},
            "unique_id": unique_id,
        }
        if time_iso:
            attributes["time"] = time_iso
        self.request(
            "POST", "/api/events", operation="create_event",
            body={"data": {"type": "event", "attributes": attributes}},
        )

    def bulk_create_events(self, events: list[BulkEvent]) -> None:
        """Up to 1,000 events, one per profile entry; unique_ids must not repeat in one call.

        The body is serialized here, event by event, each properties dict and metric name once
        per call (see `_event_json`). The same request body."""
        heads: dict[int, tuple[dict[str, Any], str]] = {}
        metrics: dict[str, str] = {}
        entries = [_event_json(event, heads, metrics) for event in events]
        body = ('{"data":{"type":"event-bulk-create-job","attributes":{"events-bulk-create":'
                '{"data":[' + ",".join(entries) + "]}}}}")
        self.request(
            "POST", "/api/event-bulk-create-jobs", operation="bulk_create_events",
            body=EncodedJSON(body.encode()), records=len(events),
        )

    def bulk_create_events_shared(
        self, *, metric: str, properties: dict[str, Any],
        recipients: list[tuple[dict[str, Any], str]],
    ) -> None:
        """`bulk_create_events` for events that share metric and properties (a restock alert):
        one (profile attributes, unique_id) per recipient. The same request body, but the shared
        part is serialized once instead of per event — a tenth of the CPU for 1,000 events."""
        event_tail = (',"events":{"data":[{"type":"event","attributes":{"properties":'
                      + compact_json(properties)
                      + ',"metric":{"data":{"type":"metric","attributes":{"name":'
                      + compact_json(metric) + '}}},"unique_id":')
        entries = [
            '{"type":"event-bulk-create","attributes":{"profile":{"data":{"type":"profile",'
            '"attributes":' + compact_json(profile) + "}}" + event_tail
            + compact_json(unique_id) + "}}]}}}"
            for profile, unique_id in recipients
        ]
        body = ('{"data":{"type":"event-bulk-create-job","attributes":{"events-bulk-create":'
                '{"data":[' + ",".join(entries) + "]}}}}")
        self.request(
            "POST", "/api/event-bulk-create-jobs", operation="bulk_create_events",
            body=EncodedJSON(body.encode()), records=len(recipients),
        )


class EncodedJSON(bytes):
    """A request body already serialized to JSON; `request` sends it as is."""


def compact_json(value: Any) -> str:
    """Compact JSON (no spaces, UTF-8 as is). orjson, not `json`: a bulk body is assembled from
    a few small encodings per event, and orjson's per-call cost is a fraction of the stdlib
    encoder's (the workers' largest single CPU item in bench/backlog.py). Non-str keys and
    unknown types raise TypeError; a NaN would become null (payload values are strings, ints
    and booleans: prices are sent as strings)."""
    return orjson.dumps(value).decode()



def _event_json(event: BulkEvent, heads: dict[int, tuple[dict[str, Any], str]],
                metrics: dict[str, str]) -> str:
    """`event.as_json()` serialized. The properties are serialized once per dict object in a
    call (`heads`: id -> (the dict, its JSON)); events built for a bulk request share one
    properties dict per product, so most of every event's bytes are copied, not encoded again.
    An event's `own_properties` are serialized on their own and spliced in."""
    shared = event.properties
    head = heads.get(id(shared))
    if head is None or head[0] is not shared:  # the dict is kept with its JSON: ids stay unique
        head = heads[id(shared)] = (shared, compact_json(shared))
    properties = head[1]
    metric = metrics.get(event.metric)
    if metric is None:
        metric = metrics[event.metric] = (',"metric":{"data":{"type":"metric","attributes":'
                                          '{"name":' + compact_json(event.metric) + "}}}")
    if event.own_properties:
        own = compact_json(event.own_properties)
        properties = own if properties == "{}" else properties[:-1] + "," + own[1:]
    tail = ',"unique_id":' + compact_json(event.unique_id)
    if event.time_iso:
        tail += ',"time":' + compact_json(event.time_iso)
    return ('{"type":"event-bulk-create","attributes":{"profile":{"data":{"type":"profile",'
            '"attributes":' + compact_json(event.profile) + '}},"events":{"data":[{"type":"event",'
            '"attributes":{"properties":' + properties + metric + tail + "}}]}}}")


@dataclass(frozen=True)
class BulkEvent:
    """One profile and its single event inside a bulk-create-events request.

    `properties` are typically shared by many events of a request (the product), `own_properties`
    belong to this event alone (e.g. a per-subscriber link) and must not repeat a shared name."""

    metric: str
    profile: dict[str, Any]
    properties: dict[str, Any]
    unique_id: str
    time_iso: str | None = None
    own_properties: dict[str, Any] = field(default_factory=dict)

    @property
    def all_properties(self) -> dict[str, Any]:
        return {**self.properties, **self.own_properties} if self.own_properties else (
            self.properties)

    def as_json(self) -> dict[str, Any]:
        event: dict[str, Any] = {
            "properties": self.all_properties,
            "metric": {"data": {"type": "metric", "attributes": {"name": self.metric}}},
            "unique_id": self.unique_id,
        }
        if self.time_iso:
            event["time"] = self.time_iso
        return {
            "type": "event-bulk-create",
            "attributes": {
                "profile": {"data": {"type": "profile", "attributes": self.profile}},
                "events": {"data": [{"type": "event", "attributes": event}]},
            },
        }


def _quote(value: str | None) -> str:
    escaped = (value or "").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _scrub(exc: Exception) -> Exception:
    """Requests' exceptions can carry the prepared request (with our header); drop it."""
    exc.request = None  # type: ignore[attr-defined]
    exc.args = tuple(str(arg).replace("Klaviyo-API-Key", "[auth]") for arg in exc.args)
    return exc
