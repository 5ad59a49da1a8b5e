"""Helpers for the Klaviyo connection tests (the sandbox account and keys come from
tests/fixtures/klaviyo_keys.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def _record_resumed(monkeypatch: pytest.MonkeyPatch, target: Callable[..., Any]) -> list[int]:
    """Wrap the `connection_resumed` callback `target` so each shop id it is called with is
    recorded (the real callback still runs); fails if the domain did not register it."""
    from integrations.klaviyo import hooks

    assert target in hooks.connection_resumed.callbacks, f"{target} is not registered"
    calls: list[int] = []

    def record(*, shop_id: int) -> object:
        calls.append(shop_id)
        return target(shop_id=shop_id)

    monkeypatch.setattr(hooks.connection_resumed, "callbacks", [
        record if callback is target else callback
        for callback in hooks.connection_resumed.callbacks])
    return calls


@pytest.fixture
def nudges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Shop ids the sync engine's resume callback (`sync_nudge`, registered on
    `integrations.klaviyo.hooks.connection_resumed`) was called with."""
    from notifyme.sync.services import sync_nudge

    return _record_resumed(monkeypatch, sync_nudge)


@pytest.fixture
def restock_resumes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Shop ids the restock fan-out's resume callback (`restocks_resume`) was called with."""
    from notifyme.restocks.jobs import restocks_resume

    return _record_resumed(monkeypatch, restocks_resume)


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
