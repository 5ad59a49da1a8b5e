"""The one HTTP client for Klaviyo's REST API (revision 2026-07-15).

HTTP only: one public method per Klaviyo operation production calls (`operations.OPERATIONS`),
each owning its method, path, query and body (built by `bodies`, encoded by its one
serializer); nothing outside this module writes a Klaviyo path or a body. Typed errors from
`errors.classify`, no models and no retries (retry policy belongs to the sync engine, which
knows about rate-limit windows and leases). Every call, successful or not, is reported to
`observer` as an `Attempt` so the caller can keep a `SyncAttempt` row; the key is never part
of it. tests/klaviyo_client/ checks every body production sends against Klaviyo's spec.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings

from integrations.klaviyo import bodies
from integrations.klaviyo.bodies import BulkEvent
from integrations.klaviyo.errors import KlaviyoError, KlaviyoUnavailableError, classify
from integrations.klaviyo.operations import OPERATIONS, SCOPE_PROBES, Operation, ScopeProbe

__all__ = ["BACK_IN_STOCK_METRIC", "OPERATIONS", "SCOPE_PROBES", "Attempt", "BulkEvent",
           "KlaviyoClient", "KlaviyoResponse", "Observer", "ScopeProbe"]

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
    #: What was sent: the query and the start of the body (`request_summary`); no header.
    request: str = ""


@dataclass
class KlaviyoResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def next_cursor(self) -> str | None:
        """`page[cursor]` of the collection's `links.next`, or None on the last page."""
        following = (self.body or {}).get("links", {}).get("next") if isinstance(
            self.body, dict) else None
        if not following:
            return None
        cursor = parse_qs(urlsplit(following).query).get("page[cursor]")
        return cursor[0] if cursor else None

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

    # -- transport (internal: the methods below own every path and body) ----------------------

    def _request(
        self, op: Operation, *, ids: dict[str, str] | None = None, body: Any = None,
        params: dict[str, str] | None = None, records: int = 1,
    ) -> KlaviyoResponse:
        """Send one request; return the 2xx response or raise the classified KlaviyoError.
        `body` is a plain JSON document, or bytes a `bodies.encode_*` fast path produced."""
        path = op.path_for(**ids) if ids else op.path
        headers = {
            "Authorization": f"Klaviyo-API-Key {self._key}",
            "revision": settings.KLAVIYO_REVISION,
            "Accept": JSON_API,
        }
        data = None
        if body is not None:
            headers["Content-Type"] = JSON_API
            data = body if isinstance(body, bytes) else bodies.encode(body)
        started = time.monotonic()
        status: int | None = None
        try:
            try:
                raw = self.session.request(
                    op.method, self.base_url + path, data=data, params=params, headers=headers,
                    timeout=self.timeout,
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
            self._report(op, path, status, started, records, error, params, data)
            raise
        self._report(op, path, status, started, records, None, params, data)
        return response

    def _report(self, op: Operation, path: str, status: int | None, started: float,
                records: int, error: KlaviyoError | None, params: dict[str, str] | None,
                data: bytes | None) -> None:
        if self.observer is not None:
            duration_ms = int((time.monotonic() - started) * 1000)
            self.observer(Attempt(op.name, op.method, path, status, duration_ms, records, error,
                                  request_summary(params, data)))

    # -- accounts, lists and scope probes ------------------------------------------------------

    def get_account(self) -> dict[str, Any]:
        """The key's account (`GET /api/accounts` returns exactly one). Proves the key works."""
        accounts = self._request(OPERATIONS["get_accounts"]).data or []
        return accounts[0] if accounts else {}

    def probe_scope(self, probe: ScopeProbe) -> None:
        """Send one of `SCOPE_PROBES`; its 400/404 (scope present) raises like any error."""
        self._request(probe.operation, ids=probe.ids, body=probe.body, params=probe.params)

    def get_lists(self, *, name: str | None = None) -> list[dict[str, Any]]:
        """The account's lists called `name` (first page: names are rarely shared), or the
        first page of all lists."""
        return list(self._lists_page(name=name).data or [])

    def get_list(self, list_id: str) -> dict[str, Any]:
        return dict(self._request(OPERATIONS["get_list"], ids={"id": list_id}).data)

    def iter_lists(self, *, max_pages: int = 10) -> list[dict[str, Any]]:
        """Every list of the account (following `links.next`, at most `max_pages` pages)."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(max_pages):
            response = self._lists_page(cursor=cursor)
            found.extend(response.data or [])
            cursor = response.next_cursor
            if cursor is None:
                break
        return found

    def _lists_page(self, *, name: str | None = None, cursor: str | None = None
                    ) -> KlaviyoResponse:
        params = {"filter": f"equals(name,{_quote(name)})"} if name else {}
        if cursor:
            params["page[cursor]"] = cursor
        return self._request(OPERATIONS["get_lists"], params=params or None)

    def create_list(self, name: str) -> dict[str, Any]:
        return dict(self._request(OPERATIONS["create_list"], body=bodies.list_create(name)).data)

    # -- metrics and flows (the flow check, flows.py) ---------------------------------------------

    def find_metric(self, name: str, *, max_pages: int = 10) -> dict[str, Any] | None:
        """The account's metric called `name`, or None. `GET /api/metrics` filters only by
        integration, so the pages are read until it is found (at most `max_pages`)."""
        cursor: str | None = None
        for _ in range(max_pages):
            response = self._request(OPERATIONS["get_metrics"],
                                     params={"page[cursor]": cursor} if cursor else None)
            for metric in response.data or []:
                if (metric.get("attributes") or {}).get("name") == name:
                    return dict(metric)
            cursor = response.next_cursor
            if cursor is None:
                break
        return None

    def flows_triggered_by_metric(self, metric_id: str) -> list[dict[str, Any]]:
        return list(self._request(OPERATIONS["get_flows_triggered_by_metric"],
                                  ids={"id": metric_id}).data or [])

    def create_flow(self, *, name: str, metric_id: str, subject: str) -> dict[str, Any]:
        return dict(self._request(OPERATIONS["create_flow"], body=bodies.flow_create(
            name=name, metric_id=metric_id, subject=subject)).data)

    # -- profiles --------------------------------------------------------------------------------

    def upsert_profile(
        self, attributes: dict[str, Any], *, profile_id: str | None = None
    ) -> KlaviyoResponse:
        """Create or update by identifiers (`POST /api/profile-import`); 201 new, 200 updated."""
        return self._request(OPERATIONS["profile_import"],
                             body=bodies.profile_import(attributes, profile_id=profile_id))

    def update_profile(self, profile_id: str, attributes: dict[str, Any]) -> KlaviyoResponse:
        """Change a known profile, identifiers included (identify calls cannot do that)."""
        return self._request(OPERATIONS["update_profile"], ids={"id": profile_id},
                             body=bodies.profile_update(profile_id, attributes))

    def get_profile(self, profile_id: str) -> KlaviyoResponse:
        return self._request(OPERATIONS["get_profile"], ids={"id": profile_id})

    def find_profiles(self, *, email: str = "", phone: str = "") -> list[dict[str, Any]]:
        """Profiles with this email (else this phone number): a cancel whose profile id was
        never recorded finds the shopper's profile this way."""
        field_name, value = ("email", email) if email else ("phone_number", phone)
        params = {"filter": f"equals({field_name},{_quote(value)})"}
        return list(self._request(OPERATIONS["get_profiles"], params=params).data)

    def bulk_import_profiles(
        self, profiles: list[dict[str, Any]], *, list_id: str | None = None
    ) -> str:
        """Start a profile bulk import (≤10,000 attribute dicts); returns the job id to poll."""
        response = self._request(
            OPERATIONS["bulk_import_profiles"], records=len(profiles),
            body=bodies.profile_bulk_import(profiles, list_id=list_id))
        return str(response.data["id"])

    def get_bulk_import_job(self, job_id: str) -> dict[str, Any]:
        return dict(self._request(OPERATIONS["get_bulk_import_job"], ids={"job_id": job_id}).data)

    def get_bulk_import_errors(self, job_id: str, *, cursor: str | None = None
                               ) -> KlaviyoResponse:
        """One page (≤100) of a job's import errors; `next_cursor` leads to the next page."""
        params = {"page[size]": "100"}
        if cursor:
            params["page[cursor]"] = cursor
        return self._request(OPERATIONS["get_bulk_import_errors"], ids={"id": job_id},
                             params=params)

    def add_profiles_to_list(self, list_id: str, profile_ids: Iterable[str]) -> None:
        body = bodies.list_members(profile_ids)
        self._request(OPERATIONS["add_profiles_to_list"], ids={"id": list_id}, body=body,
                      records=len(body["data"]))

    def remove_profiles_from_list(self, list_id: str, profile_ids: Iterable[str]) -> None:
        """Take profiles off a list (≤1,000 ids); their marketing consent stays as it is."""
        body = bodies.list_members(profile_ids)
        self._request(OPERATIONS["remove_profiles_from_list"], ids={"id": list_id}, body=body,
                      records=len(body["data"]))

    # -- consent ---------------------------------------------------------------------------------

    def bulk_subscribe(
        self, profiles: list[dict[str, Any]], *, list_id: str, custom_source: str,
        historical: bool = False,
    ) -> None:
        """Record marketing consent (≤1,000). Each profile: email/phone_number + subscriptions;
        `historical` for consent given earlier (then entries carry `consented_at`)."""
        body = bodies.subscribe_job(profiles, list_id=list_id, custom_source=custom_source,
                                    historical=historical)
        self._request(OPERATIONS["bulk_subscribe"], body=body, records=len(profiles))

    def bulk_unsubscribe(self, profiles: list[dict[str, Any]], *, list_id: str) -> None:
        """Withdraw marketing consent (≤100 profiles, identified by email/phone only)."""
        self._request(OPERATIONS["bulk_unsubscribe"], records=len(profiles),
                      body=bodies.unsubscribe_job(profiles, list_id=list_id))

    # -- data privacy ----------------------------------------------------------------------------

    def request_profile_deletion(self, *, profile_id: str = "", email: str = "",
                                 phone: str = "") -> None:
        """Ask Klaviyo to delete every profile one identifier names (202; asynchronous on
        Klaviyo's side). Needs `data-privacy:write`; one identifier per request."""
        self._request(OPERATIONS["request_profile_deletion"],
                      body=bodies.profile_deletion(profile_id=profile_id, email=email,
                                                   phone=phone))

    # -- events ----------------------------------------------------------------------------------

    def create_event(
        self, *, metric: str, profile: dict[str, Any], properties: dict[str, Any],
        unique_id: str, time_iso: str | None = None,
    ) -> None:
        """One event (`POST /api/events`); `profile` is the profile's attributes block."""
        self._request(OPERATIONS["create_event"], body=bodies.event_create(
            metric=metric, profile=profile, properties=properties, unique_id=unique_id,
            time_iso=time_iso))

    def bulk_create_events(self, events: list[BulkEvent]) -> None:
        """Up to 1,000 events, one per profile entry; unique_ids must not repeat in one call."""
        self._request(OPERATIONS["bulk_create_events"], records=len(events),
                      body=bodies.encode_bulk_events(events))

    def bulk_create_events_shared(
        self, *, metric: str, properties: dict[str, Any],
        recipients: list[tuple[dict[str, Any], str]],
    ) -> None:
        """`bulk_create_events` for events of one metric and one properties dict (a restock):
        (profile attributes, unique_id) per recipient."""
        self._request(OPERATIONS["bulk_create_events"], records=len(recipients),
                      body=bodies.encode_bulk_events_shared(
                          metric=metric, properties=properties, recipients=recipients))


#: How much of a request body the call log keeps (a 1,000-event batch is ~300 KB).
SUMMARY_BODY_BYTES = 1500


def request_summary(params: dict[str, str] | None, data: bytes | None) -> str:
    """The query (unencoded, as read) and the first `SUMMARY_BODY_BYTES` of the body, for the
    call log.

    Only what the request itself carried: headers (the key) are never part of it. Cheap on a
    large batch: only the head of the encoded body is decoded."""
    parts = []
    if params:
        parts.append("?" + "&".join(f"{name}={value}" for name, value in params.items()))
    if data:
        head = data[:SUMMARY_BODY_BYTES].decode("utf-8", "replace")
        more = len(data) - SUMMARY_BODY_BYTES
        parts.append(head + (f"… (+{more} bytes)" if more > 0 else ""))
    return "\n".join(parts)


def _quote(value: str | None) -> str:
    escaped = (value or "").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _scrub(exc: Exception) -> Exception:
    """Requests' exceptions can carry the prepared request (with our header); drop it."""
    exc.request = None  # type: ignore[attr-defined]
    exc.args = tuple(str(arg).replace("Klaviyo-API-Key", "[auth]") for arg in exc.args)
    return exc
