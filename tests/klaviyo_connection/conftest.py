"""Helpers for the Klaviyo connection tests (the sandbox account and keys come from
tests/fixtures/klaviyo_keys.py)."""

from __future__ import annotations

from typing import Any

import pytest


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
