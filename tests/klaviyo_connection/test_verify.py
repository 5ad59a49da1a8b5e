"""Scope verification against the Klaviyo sandbox over HTTP: every outcome, and no side effects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.scopes import (
    ALL_REQUIRED,
    ConnectionRefused,
    key_clean,
    key_verify,
    list_id_clean,
)
from tests.klaviyo_connection.conftest import snapshot


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("", "empty_key"),
        ("   ", "empty_key"),
        (None, "empty_key"),
        (12345, "empty_key"),
        ("AbC123", "public_key"),
        ("pk_short", "invalid_format"),
        ("pk_abc def ghi jkl mno pqr", "invalid_format"),
        ("sk_0123456789abcdef0123456789", "invalid_format"),
    ],
)
def test_format_is_checked_before_any_request(raw: object, kind: str) -> None:
    with pytest.raises(ConnectionRefused) as refused:
        key_clean(raw)
    assert refused.value.kind == kind
    assert refused.value.code == "invalid_key"
    assert refused.value.field == "private_key"
    assert "pk_" in refused.value.sentence


def test_key_is_trimmed() -> None:
    key = "pk_" + "a1" * 17
    assert key_clean(f"  {key}\n") == key


@pytest.mark.parametrize("raw", ["abc", "Y6nRLr ", "Y6nRL!", "Y6nRLrr"])
def test_list_id_format(raw: str) -> None:
    if raw.strip() == "Y6nRLr":
        assert list_id_clean(raw) == "Y6nRLr"
        return
    with pytest.raises(ConnectionRefused) as refused:
        list_id_clean(raw)
    assert refused.value.code == "list_not_found"
    assert refused.value.field == "list_id"


def test_full_key_verifies_and_names_the_account(
    klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    verified = key_verify(client=KlaviyoClient(full_key))
    assert verified.account_id == account["id"]
    assert verified.account_name == "Demo Outfitters Klaviyo"
    assert verified.scopes == list(ALL_REQUIRED)
    # optional, held by an "all" key
    assert verified.optional == ["data-privacy:write", "metrics:read", "flows:read",
                                 "flows:write"]


def test_probes_create_nothing(
    klaviyo_sandbox: Any, account: dict[str, Any], full_key: str,
    key_without: Callable[..., str],
) -> None:
    before = snapshot(klaviyo_sandbox, account["id"])
    key_verify(client=KlaviyoClient(full_key))
    with pytest.raises(ConnectionRefused):
        key_verify(client=KlaviyoClient(key_without("profiles:write", "events:write")))
    assert snapshot(klaviyo_sandbox, account["id"]) == before
    assert before["events"] == [] and before["metrics"] == [] and before["profiles"] == []
    sent = klaviyo_sandbox.admin.requests(account["id"])
    # Never a valid event: every POST /api/events was refused (400 or 403).
    assert all(r["status"] in (400, 403) for r in sent if r["path"].startswith("/api/events"))


def test_key_missing_only_profiles_write_is_refused_and_named(
    klaviyo_sandbox: Any, key_without: Callable[..., str]
) -> None:
    with pytest.raises(ConnectionRefused) as refused:
        key_verify(client=KlaviyoClient(key_without("profiles:write")))
    error = refused.value
    assert error.code == "missing_scopes"
    assert error.missing_scopes == ["profiles:write"]
    assert "profiles:write" in error.sentence
    assert "Full Access" in error.sentence
    assert "You cannot edit a key after it is created" in error.sentence


def test_every_missing_scope_is_collected(
    klaviyo_sandbox: Any, key_without: Callable[..., str]
) -> None:
    key = key_without("events:write", "lists:read", "subscriptions:write", "accounts:read")
    with pytest.raises(ConnectionRefused) as refused:
        key_verify(client=KlaviyoClient(key))
    assert refused.value.missing_scopes == [
        "accounts:read", "lists:read", "subscriptions:write", "events:write"
    ]
    for scope in refused.value.missing_scopes:
        assert scope in refused.value.sentence


def test_revoked_key_is_invalid(
    klaviyo_sandbox: Any, full_key: str
) -> None:
    klaviyo_sandbox.admin.revoke_key(full_key)
    with pytest.raises(ConnectionRefused) as refused:
        key_verify(client=KlaviyoClient(full_key))
    assert refused.value.code == "invalid_key"
    assert refused.value.kind == "invalid_key"


def test_unknown_key_is_invalid(klaviyo_sandbox: Any) -> None:
    with pytest.raises(ConnectionRefused) as refused:
        key_verify(client=KlaviyoClient("pk_" + "0" * 34))
    assert refused.value.code == "invalid_key"


def test_outage_is_unavailable(
    klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    klaviyo_sandbox.admin.set_faults(account["id"], error_rate=1.0, error_statuses=[503])
    with pytest.raises(ConnectionRefused) as refused:
        key_verify(client=KlaviyoClient(full_key))
    assert refused.value.code == "klaviyo_unavailable"
    assert "try again in a minute" in refused.value.sentence


def test_edge_block_is_unavailable_with_its_own_sentence(
    klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    klaviyo_sandbox.admin.set_faults(account["id"], html_403_rate=1.0)
    with pytest.raises(ConnectionRefused) as refused:
        key_verify(client=KlaviyoClient(full_key))
    assert refused.value.code == "klaviyo_unavailable"
    assert refused.value.kind == "edge_blocked"
    assert "firewall" in refused.value.sentence


def test_short_rate_limit_waits_and_retries_once(
    klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    klaviyo_sandbox.admin.set_faults(account["id"], next_errors=[429], retry_after_seconds=1)
    verified = key_verify(client=KlaviyoClient(full_key))
    assert verified.account_id == account["id"]


@pytest.mark.parametrize("fault", [{"hang_next": 1, "hang_seconds": 3}, {"drop_next": 1},
                                   {"next_errors": [429], "retry_after_seconds": 30}])
def test_timeouts_drops_and_long_throttles_are_unavailable(
    klaviyo_sandbox: Any, account: dict[str, Any], full_key: str, settings: Any,
    fault: dict[str, Any],
) -> None:
    settings.KLAVIYO_TIMEOUT_SECONDS = 0.5
    klaviyo_sandbox.admin.set_faults(account["id"], **fault)
    with pytest.raises(ConnectionRefused) as refused:
        key_verify(client=KlaviyoClient(full_key))
    assert refused.value.code == "klaviyo_unavailable"
    assert "try again in a minute" in refused.value.sentence
