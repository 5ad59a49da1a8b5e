"""Fault injection: 5xx, 429 with/without Retry-After, slow, hang, drop, HTML 403, targeting."""

from __future__ import annotations

import pytest
import requests

from sandboxes.klaviyo.admin import SandboxAdminError

from .conftest import Api, error_of, event_body


def test_next_errors_in_order_then_normal(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, next_errors=[500, 502, 503])
    statuses = [api.call("GET", "/api/lists").status_code for _ in range(4)]
    assert statuses == [500, 502, 503, 200]
    r = api.call("GET", "/api/lists")
    assert r.status_code == 200
    assert api.sandbox.admin.stats(api.account_id)["faults_served"] == 3


def test_server_errors_have_klaviyo_shape(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, next_errors=[503])
    r = api.call("GET", "/api/lists")
    assert r.status_code == 503
    assert error_of(r)["status"] == 503


def test_injected_429_with_and_without_retry_after(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, next_errors=[429], retry_after=True,
                                 retry_after_seconds=7)
    r = api.call("GET", "/api/lists")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert error_of(r)["detail"] == "Request was throttled. Expected available in 7 seconds."
    api.sandbox.admin.set_faults(api.account_id, next_errors=[429], retry_after=False)
    r = api.call("GET", "/api/lists")
    assert r.status_code == 429
    assert "Retry-After" not in r.headers
    assert error_of(r)["code"] == "throttled"
    assert api.sandbox.admin.stats(api.account_id)["throttled"] == 2


def test_error_rate_is_reproducible_with_seed(api: Api) -> None:
    def run() -> list[int]:
        api.sandbox.admin.set_faults(api.account_id, error_rate=0.5,
                                     error_statuses=[500, 503], seed=42)
        return [api.call("GET", "/api/lists").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 500, 503}
    api.sandbox.admin.clear_faults(api.account_id)
    assert api.call("GET", "/api/lists").status_code == 200


def test_slow_answer(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, delay=1.5)
    with pytest.raises(requests.Timeout):
        api.call("GET", "/api/lists", timeout=0.3)
    api.sandbox.admin.clear_faults(api.account_id)
    assert api.call("GET", "/api/lists").status_code == 200


def test_hang_past_client_timeout(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, hang_next=1, hang_seconds=30)
    with pytest.raises(requests.Timeout):
        api.call("GET", "/api/lists", timeout=0.5)
    assert api.call("GET", "/api/lists").status_code == 200
    api.sandbox.admin.reset()  # wakes the hanging thread


def test_hang_after_processing_then_retry_is_deduplicated(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, hang_next=1, hang_seconds=30,
                                 hang_after_processing=True)
    body = event_body("Back in Stock", {"email": "h@shop.test"}, "bis:hang:1")
    with pytest.raises(requests.Timeout):
        api.call("POST", "/api/events", body, timeout=0.5)
    assert api.call("POST", "/api/events", body).status_code == 202
    stats = api.sandbox.admin.stats(api.account_id)
    assert (stats["events"], stats["duplicates_dropped"]) == (1, 1)
    api.sandbox.admin.reset()


def test_dropped_connection(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, drop_next=1)
    with pytest.raises(requests.ConnectionError):
        api.call("GET", "/api/lists")
    assert api.call("GET", "/api/lists").status_code == 200
    [dropped] = [e for e in api.sandbox.admin.requests(api.account_id) if e.get("dropped")]
    assert dropped["fault"] == "drop"


def test_drop_rate_via_next_errors_names(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, next_errors=["drop", 502])
    with pytest.raises(requests.ConnectionError):
        api.call("GET", "/api/lists")
    assert api.call("GET", "/api/lists").status_code == 502


def test_html_403_edge_block(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, html_403_next=1)
    r = api.call("GET", "/api/lists")
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["cf-mitigated"] == "challenge"
    assert "<html" in r.text
    assert api.call("GET", "/api/lists").status_code == 200


def test_path_prefix_targets_faults(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, error_rate=1.0, error_statuses=[503],
                                 path_prefix="/api/events")
    assert api.call("GET", "/api/lists").status_code == 200
    body = event_body("Back in Stock", {"email": "p@shop.test"})
    assert api.call("POST", "/api/events", body).status_code == 503
    assert api.sandbox.admin.stats(api.account_id)["events"] == 0


def test_faults_are_per_account(api: Api) -> None:
    api.sandbox.admin.set_faults(api.account_id, error_rate=1.0, error_statuses=[500])
    _account, key = api.sandbox.new_account("Healthy Store")
    assert api.call("GET", "/api/lists", key=key).status_code == 200
    assert api.call("GET", "/api/lists").status_code == 500


def test_unknown_fault_option_rejected(api: Api) -> None:
    with pytest.raises(SandboxAdminError):
        api.sandbox.admin.set_faults(api.account_id, explode=True)
