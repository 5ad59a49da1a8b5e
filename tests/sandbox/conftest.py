"""Helpers for the sandbox tests: plain `requests` over HTTP, Klaviyo's headers and bodies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.fixtures.sandbox import SandboxHandle

REVISION = "2026-07-15"
JSONAPI = "application/vnd.api+json"


@dataclass
class Api:
    """One account of the sandbox plus a key, and a `call` helper speaking Klaviyo's protocol."""

    sandbox: SandboxHandle
    account: dict[str, Any]
    key: str
    session: requests.Session

    @property
    def account_id(self) -> str:
        return str(self.account["id"])

    def call(self, method: str, path: str, body: Any = None, *, key: str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None,
             timeout: float = 10, **params: Any) -> requests.Response:
        sent = {"Authorization": f"Klaviyo-API-Key {key or self.key}", "revision": REVISION,
                "Accept": JSONAPI}
        if body is not None or raw is not None:
            sent["Content-Type"] = JSONAPI
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        data = raw if raw is not None else (None if body is None else _dumps(body))
        return self.session.request(method, f"{self.sandbox.url}{path}", data=data,
                                    headers=sent, params=params or None, timeout=timeout)


def _dumps(body: Any) -> bytes:
    import json

    return json.dumps(body).encode()


@pytest.fixture
def api(klaviyo_sandbox: SandboxHandle) -> Api:
    """A fresh account with an all-scopes key; rate limits off unless a test turns them on."""
    klaviyo_sandbox.admin.set_rate_limits(enabled=False)
    account, key = klaviyo_sandbox.new_account("Test Store")
    return Api(klaviyo_sandbox, account, key, requests.Session())


def profile_body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "profile", "attributes": attributes}}


def event_body(metric: str, profile: dict[str, Any], unique_id: str | None = None,
               **properties: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "properties": properties or {"sku": "SKU-1"},
        "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
        "profile": {"data": {"type": "profile", "attributes": profile}},
    }
    if unique_id is not None:
        attrs["unique_id"] = unique_id
    return {"data": {"type": "event", "attributes": attrs}}


def bulk_events_body(entries: list[tuple[dict[str, Any], list[dict[str, Any]]]]
                     ) -> dict[str, Any]:
    """entries: [(profile attributes, [event attributes incl. metric name under 'metric'])]."""
    data = []
    for profile, events in entries:
        data.append({"type": "event-bulk-create", "attributes": {
            "profile": {"data": {"type": "profile", "attributes": profile}},
            "events": {"data": [{"type": "event", "attributes": {
                "properties": e.get("properties", {"sku": "SKU-1"}),
                "metric": {"data": {"type": "metric", "attributes": {"name": e["metric"]}}},
                **({"unique_id": e["unique_id"]} if "unique_id" in e else {}),
            }} for e in events]},
        }})
    return {"data": {"type": "event-bulk-create-job",
                     "attributes": {"events-bulk-create": {"data": data}}}}


def subscribe_body(profiles: list[dict[str, Any]], list_id: str | None = None,
                   custom_source: str | None = "Back in stock form") -> dict[str, Any]:
    body: dict[str, Any] = {"data": {"type": "profile-subscription-bulk-create-job", "attributes": {
        "profiles": {"data": [{"type": "profile", "attributes": p} for p in profiles]}}}}
    if custom_source is not None:
        body["data"]["attributes"]["custom_source"] = custom_source
    if list_id:
        body["data"]["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return body


def email_consent() -> dict[str, Any]:
    return {"email": {"marketing": {"consent": "SUBSCRIBED"}}}


def error_of(response: requests.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) >= 1
    return dict(errors[0])


Caller = Callable[..., requests.Response]
