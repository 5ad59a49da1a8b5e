"""The requests production sends are Klaviyo's: operation, path, query and body.

Recorded on the wire while production code runs against the sandbox (journey.py), then checked
twice, as klaviyo-api.md §13 asks: against Klaviyo's OpenAPI spec (`../shared/klaviyo/stable.json`
beside the checkout; skipped when absent) and against the official `klaviyo-api` package's
generated models (any machine). A client operation that production calls but the journey does
not exercise fails `test_the_journey_calls_every_client_operation`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from integrations.klaviyo import ratelimit
from integrations.klaviyo.operations import OPERATIONS, SCOPE_PROBES
from integrations.klaviyo.scopes import ALL_KNOWN
from tests.fixtures.sandbox import SandboxHandle
from tests.klaviyo_client import journey, schemas
from tests.klaviyo_client.recording import PUBLIC_METHODS, Recorder, Sent

PROBE_NAMES = {probe.operation.name for probe in SCOPE_PROBES}
REVISION = "2026-07-15"  # the spec's info.version (checked below when the file is present)


@pytest.fixture
def recorded(db: None, klaviyo_sandbox: SandboxHandle, settings: Any,
             monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = journey.run(klaviyo_sandbox, settings, monkeypatch)
    assert recorder.sent, "nothing was recorded"
    return recorder


def _path_matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
    return re.fullmatch(pattern, path) is not None


def _body(sent: Sent) -> Any:
    return None if sent.body is None else json.loads(sent.body)


def _shape_problems(sent: Sent) -> list[str]:
    """What is wrong with a request whatever the schema says (method, path, probe bodies)."""
    op = sent.operation
    problems = []
    if sent.headers.get("revision") != REVISION:
        problems.append(f"revision header {sent.headers.get('revision')!r}, not {REVISION}")
    if sent.body is not None and sent.headers.get("content-type") != "application/vnd.api+json":
        problems.append(f"content-type {sent.headers.get('content-type')!r}")
    if sent.method != op.method or not _path_matches(op.path, sent.path):
        problems.append(f"sent {sent.method} {sent.path}, the operation is {op.method} {op.path}")
    if op.name in PROBE_NAMES:
        if sent.body not in (None, b"{}"):
            problems.append(f"a scope probe must send no body or {{}}, sent {sent.body!r}")
    elif (sent.body is None) != (op.body_schema is None):
        problems.append(f"body {'missing' if sent.body is None else 'unexpected'}")
    return problems


def _report(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}: {p}" for where, found in problems.items() for p in found)


def test_every_request_matches_the_openapi_spec(recorded: Recorder) -> None:
    document = schemas.spec()
    if document is None:
        pytest.skip(f"Klaviyo's stable.json is not at {schemas.spec_path()}")
    assert document["info"]["version"] == REVISION
    problems: dict[str, list[str]] = {}
    for index, sent in enumerate(recorded.sent):
        op = sent.operation
        found = _shape_problems(sent)
        node = schemas.spec_operation(op.method, op.path)
        if node is None:
            found.append(f"the spec has no {op.method} {op.path}")
        else:
            undeclared = set(sent.query) - schemas.query_parameters(node)
            if undeclared:
                found.append(f"query parameters the spec does not declare: {sorted(undeclared)}")
            schema = schemas.request_schema_name(node)
            if schema != op.body_schema and op.name not in PROBE_NAMES:
                found.append(f"the spec's request schema is {schema}, the client says "
                             f"{op.body_schema}")
            if schema and sent.body is not None and op.name not in PROBE_NAMES:
                found += schemas.spec_problems(schema, _body(sent))
        if found:
            problems[f"#{index} {op.name}"] = found
    assert not problems, _report(problems)


def test_every_body_matches_the_official_models(recorded: Recorder) -> None:
    problems: dict[str, list[str]] = {}
    for index, sent in enumerate(recorded.sent):
        op = sent.operation
        found = _shape_problems(sent)
        if op.body_schema and op.name not in PROBE_NAMES and sent.body is not None:
            found += schemas.model_problems(op.body_schema, _body(sent))
        if found:
            problems[f"#{index} {op.name}"] = found
    assert not problems, _report(problems)


def test_the_journey_calls_every_client_operation(recorded: Recorder) -> None:
    """Production gains a client call only with a journey step that sends it."""
    assert {s.operation.name for s in recorded.sent} == set(OPERATIONS) | PROBE_NAMES
    assert set(recorded.methods) == PUBLIC_METHODS
    bodies = {name: [_body(s) for s in recorded.by_operation(name)] for name in OPERATIONS}
    consent = [p["attributes"] for b in bodies["bulk_subscribe"]
               for p in b["data"]["attributes"]["profiles"]["data"]]
    channels = {tuple(sorted(p["subscriptions"])) for p in consent}
    assert {("email",), ("sms",), ("email", "sms")} <= channels
    historical = [b["data"]["attributes"].get("historical_import") for b in
                  bodies["bulk_subscribe"]]
    assert True in historical and None in historical
    assert any("consented_at" in c["marketing"] for p in consent
               for c in p["subscriptions"].values())
    profiles = [b["data"]["attributes"] for b in bodies["profile_import"]]
    assert {"email", "phone_number", "first_name", "locale", "external_id",
            "properties"} <= {key for p in profiles for key in p}
    assert any(s.query.get("page[cursor]") for s in recorded.by_operation("get_lists"))
    metrics = {e["attributes"]["events"]["data"][0]["attributes"]["metric"]["data"]
               ["attributes"]["name"] for b in bodies["bulk_create_events"]
               for e in b["data"]["attributes"]["events-bulk-create"]["data"]}
    assert metrics == {"Subscribed to Back in Stock", "Back in Stock"}
    single = {b["data"]["attributes"]["metric"]["data"]["attributes"]["name"]
              for b in bodies["create_event"]}
    assert single == {"Subscribed to Back in Stock", "Back in Stock"}


def test_the_spec_asks_for_no_scope_the_app_does_not_require() -> None:
    """Every operation's scopes (x-klaviyo-scopes) are among those a key is verified for
    (required, or optional like data-privacy:write), each
    probe targets an operation that needs its scope, and the rate limiter has published limits
    for every operation (tests/sandbox/test_published_limits.py pins them to the spec)."""
    assert set(ratelimit.PUBLISHED_LIMITS) == set(OPERATIONS)
    if schemas.spec() is None:
        pytest.skip(f"Klaviyo's stable.json is not at {schemas.spec_path()}")
    for op in OPERATIONS.values():
        node = schemas.spec_operation(op.method, op.path)
        assert node is not None, op
        assert set(node["x-klaviyo-scopes"]) <= set(ALL_KNOWN), op.name
    for probe in SCOPE_PROBES:
        node = schemas.spec_operation(probe.operation.method, probe.operation.path)
        assert node is not None and probe.scope in node["x-klaviyo-scopes"], probe
