"""The shared limiter: both windows, guard band, cool-downs — real Redis, no timing assertions."""

from __future__ import annotations

import pytest
import requests

from integrations.klaviyo import ratelimit
from integrations.klaviyo.client import KlaviyoClient
from tests.fixtures.sandbox import SandboxHandle


@pytest.fixture
def redis_time(monkeypatch: pytest.MonkeyPatch):
    """Pin the limiter's clock: the Lua script reads Redis TIME, so we wrap `eval`."""
    from notifyme.core import redis as core_redis

    real = core_redis.get_redis()
    state = {"now": 1_000_000.0}

    class Clocked:
        def __getattr__(self, name: str):
            return getattr(real, name)

        def eval(self, script: str, numkeys: int, *args):
            seconds, micro = divmod(round(state["now"] * 1_000_000), 1_000_000)
            patched = script.replace(
                "redis.call('TIME')", f"{{'{int(seconds)}', '{int(micro)}'}}")
            return real.eval(patched, numkeys, *args)

        def time(self):
            seconds, micro = divmod(round(state["now"] * 1_000_000), 1_000_000)
            return int(seconds), int(micro)

    clocked = Clocked()
    monkeypatch.setattr(ratelimit, "get_redis", lambda: clocked)
    return state


def test_published_limits_per_operation() -> None:
    # The whole table is pinned to the spec in tests/sandbox/test_published_limits.py.
    assert ratelimit.published_limits("bulk_create_events") == {"burst": 10, "steady": 150}
    assert ratelimit.published_limits("profile_import") == {"burst": 75, "steady": 750}
    assert ratelimit.published_limits("create_list") == {"burst": 10, "steady": 150, "daily": 150}
    assert ratelimit.published_limits("get_accounts") == {"burst": 1, "steady": 15}
    assert ratelimit.published_limits("bulk_import_profiles") == {"burst": 10, "steady": 150}
    assert ratelimit.published_limits("create_event") == {"burst": 350, "steady": 3500}


def test_production_never_reads_the_spec(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("KLAVIYO_SPEC_PATH", str(tmp_path / "other.json"))
    (tmp_path / "other.json").write_text(
        '{"paths": {"/api/event-bulk-create-jobs": {"post": '
        '{"x-klaviyo-ratelimit": {"burst": "1/s", "steady": "2/m"}}}}}')
    assert ratelimit.published_limits("bulk_create_events") == {"burst": 10, "steady": 150}


def test_margins_per_window(settings) -> None:
    settings.KLAVIYO_RATE_FACTOR_STEADY = 0.9
    settings.KLAVIYO_RATE_FACTOR_BURST = 1.0
    windows = {w.name: w for w in ratelimit.windows_for("bulk_create_events")}
    assert (windows["burst"].limit, windows["steady"].limit) == (10, 135)
    settings.KLAVIYO_RATE_FACTOR_BURST = 0.8
    assert {w.name: w.limit for w in ratelimit.windows_for("bulk_create_events")}["burst"] == 8
    # Never below one call per window.
    assert {w.name: w.limit for w in ratelimit.windows_for("get_accounts")}["burst"] == 1


def test_burst_window_refuses_then_frees_at_the_next_second(redis_time) -> None:
    redis_time["now"] = 1_000_000.10
    waits = [ratelimit.acquire(account_id="acct", operation="bulk_create_events")
             for _ in range(11)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(0.90, abs=0.01)  # to the next wall-clock second
    redis_time["now"] = 1_000_001.0
    assert ratelimit.acquire(account_id="acct", operation="bulk_create_events") == 0.0


def test_steady_window_refuses_at_its_margin(redis_time) -> None:
    granted = 0
    start = 1_020_000.0  # a minute boundary (1,020,000 = 17,000 x 60)
    for second in range(60):
        redis_time["now"] = start + second + 0.01
        for _ in range(10):
            if ratelimit.acquire(account_id="acct", operation="add_profiles_to_list") == 0.0:
                granted += 1
    assert granted == 135  # 150/m at 0.9, although the burst window allowed 600
    redis_time["now"] = start + 30.0
    wait = ratelimit.acquire(account_id="acct", operation="add_profiles_to_list")
    assert wait == pytest.approx(30.0, abs=0.01)  # until the minute ends, not the second


def test_guard_band_charges_the_next_window_too(redis_time) -> None:
    redis_time["now"] = 1_000_000.90  # inside the last 0.25 s of the second
    for _ in range(10):
        assert ratelimit.acquire(account_id="acct", operation="bulk_create_events") == 0.0
    redis_time["now"] = 1_000_001.05  # the next second is already spent
    wait = ratelimit.acquire(account_id="acct", operation="bulk_create_events")
    assert wait == pytest.approx(0.95, abs=0.01)


def test_operations_and_accounts_do_not_share_buckets(redis_time) -> None:
    redis_time["now"] = 1_000_000.10
    for _ in range(10):
        assert ratelimit.acquire(account_id="a", operation="bulk_create_events") == 0.0
    assert ratelimit.acquire(account_id="a", operation="bulk_create_events") > 0
    assert ratelimit.acquire(account_id="a", operation="bulk_import_profiles") == 0.0
    assert ratelimit.acquire(account_id="b", operation="bulk_create_events") == 0.0


def test_cool_down_blocks_every_operation_and_only_grows(redis_time) -> None:
    redis_time["now"] = 1_000_000.0
    assert ratelimit.cool_down(account_id="a", seconds=5) == pytest.approx(5.0)
    assert ratelimit.acquire(account_id="a", operation="profile_import") == pytest.approx(5.0)
    assert ratelimit.acquire(account_id="a", operation="create_event") == pytest.approx(5.0)
    assert ratelimit.cool_down(account_id="a", seconds=1) == pytest.approx(5.0)  # not shortened
    assert ratelimit.acquire(account_id="b", operation="profile_import") == 0.0
    redis_time["now"] = 1_000_005.5
    assert ratelimit.acquire(account_id="a", operation="profile_import") == 0.0


def test_cool_down_after_429_uses_hint_else_doubles() -> None:
    assert ratelimit.cool_down_after(account_id="x", retry_after=7) == pytest.approx(7, abs=0.05)
    assert ratelimit.cool_down_after(account_id="y", retry_after=None) == pytest.approx(1, abs=.05)
    assert ratelimit.cool_down_after(account_id="y", retry_after=None) == pytest.approx(2, abs=.05)
    assert ratelimit.cool_down_remaining(account_id="y") > 1.0


def test_limiter_keeps_real_traffic_under_the_sandbox_limits(
    klaviyo_sandbox: SandboxHandle,
) -> None:
    """Hammer a 1/s, 15/m operation through the limiter: the sandbox never answers 429."""
    account, key = klaviyo_sandbox.new_account()
    client = KlaviyoClient(key, session=requests.Session())
    sent = refused = 0
    for _ in range(40):
        wait = ratelimit.acquire(account_id=account["id"], operation="get_accounts")
        if wait:
            refused += 1
            continue
        client.get_account()
        sent += 1
    assert sent >= 1 and refused >= 1
    assert klaviyo_sandbox.admin.stats(account["id"])["throttled"] == 0


def test_available_peeks_without_taking(redis_time) -> None:
    redis_time["now"] = 1_000_000.10
    assert ratelimit.available(account_id="a", operation="bulk_create_events") == (10, 0.0)
    for _ in range(7):
        ratelimit.acquire(account_id="a", operation="bulk_create_events")
    assert ratelimit.available(account_id="a", operation="bulk_create_events") == (3, 0.0)
    assert ratelimit.available(account_id="a", operation="bulk_create_events") == (3, 0.0)
    for _ in range(3):
        ratelimit.acquire(account_id="a", operation="bulk_create_events")
    calls, wait = ratelimit.available(account_id="a", operation="bulk_create_events")
    assert calls == 0 and wait == pytest.approx(0.9, abs=0.01)
    ratelimit.cool_down(account_id="b", seconds=4)
    calls, wait = ratelimit.available(account_id="b", operation="profile_import")
    assert calls == 0 and wait == pytest.approx(4, abs=0.01)
