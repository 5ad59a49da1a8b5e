"""Fixtures for the Klaviyo connection tests: a sandbox account with a full key, and helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from integrations.klaviyo.scopes import ALL_REQUIRED


@pytest.fixture
def account(klaviyo_sandbox: Any) -> dict[str, Any]:
    """A fresh sandbox account named "Demo Outfitters Klaviyo" (rate limits scaled up 10x)."""
    klaviyo_sandbox.admin.set_rate_limits(enabled=True, scale=10)
    return klaviyo_sandbox.admin.create_account(name="Demo Outfitters Klaviyo")


@pytest.fixture
def full_key(klaviyo_sandbox: Any, account: dict[str, Any]) -> str:
    return klaviyo_sandbox.admin.create_key(account["id"], "all")


@pytest.fixture
def key_without(klaviyo_sandbox: Any, account: dict[str, Any]) -> Callable[..., str]:
    """`key_without("profiles:write", ...)` → a key with every required scope but those."""

    def make(*missing: str) -> str:
        scopes = [scope for scope in ALL_REQUIRED if scope not in missing]
        return klaviyo_sandbox.admin.create_key(account["id"], scopes)

    return make


@pytest.fixture
def nudges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Shop ids passed to `notifyme.sync.services.sync_nudge` (the sync engine's resume hook);
    the real nudge still runs."""
    from notifyme.sync import services as sync_services

    calls: list[int] = []
    real = sync_services.sync_nudge

    def record(*, shop_id: int) -> bool:
        calls.append(shop_id)
        return real(shop_id=shop_id)

    monkeypatch.setattr(sync_services, "sync_nudge", record)
    return calls


def snapshot(klaviyo_sandbox: Any, account_id: str) -> dict[str, Any]:
    """What exists in the sandbox account (data a probe must never create)."""
    admin = klaviyo_sandbox.admin
    return {
        "profiles": admin.profiles(account_id),
        "events": admin.events(account_id),
        "metrics": admin.metrics(account_id),
        "lists": admin.lists(account_id),
        "subscriptions": admin.subscriptions(account_id),
        "jobs": admin.jobs(account_id),
    }
