"""Rate limits: burst and steady windows per account and operation, 429 shape, switches."""

from __future__ import annotations

import re

import requests

from .conftest import Api, error_of, profile_body

DETAIL = re.compile(r"^Request was throttled\. Expected available in (\d+) seconds\.$")


def _until_429(api: Api, path: str = "/api/accounts", attempts: int = 20,
               key: str | None = None) -> tuple[list[int], requests.Response | None]:
    statuses: list[int] = []
    for _ in range(attempts):
        r = api.call("GET", path, key=key)
        statuses.append(r.status_code)
        if r.status_code == 429:
            return statuses, r
    return statuses, None


def test_published_limits_read_from_spec(api: Api) -> None:
    api.sandbox.admin.set_rate_limits(enabled=True)
    r = api.call("GET", "/api/accounts")
    assert r.headers["RateLimit-Limit"] == "15"  # accounts: 1/s, 15/m (XS tier)
    r = api.call("POST", "/api/profile-import", profile_body(email="r@shop.test"))
    assert r.headers["RateLimit-Limit"] == "750"  # profile-import: 75/s, 750/m (L tier)
    assert int(r.headers["RateLimit-Remaining"]) == 749  # first request of this bucket
    assert 0 <= int(r.headers["RateLimit-Reset"]) <= 60
    r = api.call("POST", "/api/profile-import", {})  # a 400 after the throttle check
    assert r.status_code == 400
    assert r.headers["RateLimit-Remaining"] in ("748", "749")  # 749 if a new minute began


def test_burst_window(api: Api) -> None:
    api.sandbox.admin.set_rate_limits(enabled=True)  # Get Accounts: 1/s
    statuses, throttled = _until_429(api, attempts=3)
    assert throttled is not None, statuses
    err = error_of(throttled)
    assert err["code"] == "throttled"
    match = DETAIL.match(err["detail"])
    assert match
    assert throttled.headers["Retry-After"] == match.group(1) == "1"
    assert "RateLimit-Limit" not in throttled.headers
    log = api.sandbox.admin.requests(api.account_id)
    assert [e["window"] for e in log if e["status"] == 429] == ["burst"]
    assert api.sandbox.admin.stats(api.account_id)["throttled"] == 1


def test_steady_window(api: Api) -> None:
    # burst x10 out of the way; steady 150/m x 0.02 = 3 per minute for Get Metrics
    api.sandbox.admin.set_rate_limits(enabled=True, windows={"burst": 10, "steady": 0.02})
    statuses, throttled = _until_429(api, "/api/metrics", attempts=10)
    assert throttled is not None, statuses
    assert statuses.count(200) >= 3
    wait = int(throttled.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert DETAIL.match(error_of(throttled)["detail"]).group(1) == str(wait)  # type: ignore[union-attr]
    log = api.sandbox.admin.requests(api.account_id)
    assert [e["window"] for e in log if e["status"] == 429] == ["steady"]


def test_scale_makes_limits_smaller(api: Api) -> None:
    api.sandbox.admin.set_rate_limits(enabled=True, scale=0.1)
    r = api.call("POST", "/api/profile-import", profile_body(email="s@shop.test"))
    assert r.headers["RateLimit-Limit"] == "75"


def test_limits_shared_by_all_keys_of_an_account(api: Api) -> None:
    api.sandbox.admin.set_rate_limits(enabled=True, windows={"burst": 100, "steady": 0.2})
    other_key = api.sandbox.admin.create_key(api.account_id, "all")
    for _ in range(3):
        assert api.call("GET", "/api/accounts").status_code == 200
    r = api.call("GET", "/api/accounts", key=other_key)  # 15/m x 0.2 = 3 per minute
    assert r.status_code == 429
    # other operations have their own bucket, other accounts their own quota
    assert api.call("GET", "/api/lists", key=other_key).status_code == 200
    _account, key = api.sandbox.new_account("Other Store")
    assert api.call("GET", "/api/accounts", key=key).status_code == 200


def test_disable_globally_and_per_account(api: Api) -> None:
    api.sandbox.admin.set_rate_limits(enabled=False)
    assert [api.call("GET", "/api/accounts").status_code for _ in range(5)] == [200] * 5
    api.sandbox.admin.set_rate_limits(enabled=True)
    api.sandbox.admin.set_rate_limits(enabled=False, account_id=api.account_id)
    assert [api.call("GET", "/api/accounts").status_code for _ in range(5)] == [200] * 5
    _account, key = api.sandbox.new_account("Limited Store")
    statuses, throttled = _until_429(api, attempts=5, key=key)
    assert throttled is not None, statuses


def test_reset_restores_default_limits(api: Api) -> None:
    api.sandbox.admin.set_rate_limits(enabled=False)
    api.sandbox.admin.reset()
    _account, key = api.sandbox.new_account("After Reset")
    statuses, throttled = _until_429(api, attempts=3, key=key)
    assert throttled is not None, statuses


def test_unauthenticated_requests_do_not_use_quota(api: Api) -> None:
    api.sandbox.admin.set_rate_limits(enabled=True)
    for _ in range(3):
        api.call("GET", "/api/accounts", key="pk_wrong")
    assert api.sandbox.admin.stats(api.account_id)["throttled"] == 0
