"""`SandboxAdmin`: the Python client of the sandbox's `/_sandbox/` admin API.

Tests, the demo and benchmarks use it to create accounts and keys, switch rate limits, inject
faults and read what the sandbox received. Every method is one HTTP call; errors raise
`SandboxAdminError` with the sandbox's message. Only `create_key` ever returns a full key.
"""

from __future__ import annotations

from typing import Any

import requests


class SandboxAdminError(RuntimeError):
    """The sandbox refused an admin call (status and message from the sandbox)."""


class SandboxAdmin:
    def __init__(self, base_url: str, timeout: float = 10) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, path: str, body: Any = None,
              params: dict[str, Any] | None = None) -> Any:
        response = self._session.request(method, f"{self.base_url}/_sandbox{path}", json=body,
                                         params=params, timeout=self.timeout)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise SandboxAdminError(f"{method} {path}: {response.status_code} {message}")
        return response.json() if response.content else None

    # ---- accounts and keys ------------------------------------------------------------------
    def reset(self) -> None:
        """Wipe all accounts, keys and state; rate limits back to enabled, scale 1."""
        self._call("POST", "/reset")

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def create_account(self, name: str = "Sandbox Store",
                       account_id: str | None = None) -> dict[str, Any]:
        """Returns {"id", "name", "public_api_key"}."""
        body: dict[str, Any] = {"name": name}
        if account_id:
            body["id"] = account_id
        return self._call("POST", "/accounts", body)

    def create_key(self, account_id: str, scopes: list[str] | str = "all",
                   key: str | None = None) -> str:
        """A private key (`pk_` + 34 hex = 37 chars) with those scopes ("all" or a list)."""
        body: dict[str, Any] = {"account_id": account_id, "scopes": scopes}
        if key:
            body["key"] = key
        return self._call("POST", "/keys", body)["key"]

    def keys(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """Masked keys (`pk_…abcd`) with their scopes and revoked flag."""
        return self._call("GET", "/keys", params={"account_id": account_id} if account_id else None)

    def set_key_scopes(self, key: str, scopes: list[str] | str) -> None:
        self._call("POST", "/keys/scopes", {"key": key, "scopes": scopes})

    def revoke_key(self, key: str) -> None:
        self._call("POST", "/keys/revoke", {"key": key})

    # ---- lists ------------------------------------------------------------------------------
    def create_list(self, account_id: str, name: str, list_id: str | None = None) -> str:
        """Create a list directly (no rate limit, no daily cap); returns its 6-char id."""
        body = {"name": name, **({"id": list_id} if list_id else {})}
        return self._call("POST", f"/accounts/{account_id}/lists", body)["id"]

    def delete_list(self, account_id: str, list_id: str) -> None:
        self._call("DELETE", f"/accounts/{account_id}/lists/{list_id}")

    def lists(self, account_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/accounts/{account_id}/lists")

    def list_members(self, account_id: str, list_id: str) -> list[str]:
        return self._call("GET", f"/accounts/{account_id}/lists/{list_id}/members")

    # ---- switches ---------------------------------------------------------------------------
    def set_rate_limits(self, *, enabled: bool = True, scale: float = 1.0,
                        account_id: str | None = None,
                        windows: dict[str, float] | None = None) -> None:
        """Globally (clears per-account overrides) or for one account.

        Limits become max(1, int(published x scale)); `windows` overrides the scale of single
        windows, e.g. `{"daily": 0.1}` makes Create List's 150/day cap 15/day.
        """
        self._call("POST", "/rate-limits", {"enabled": enabled, "scale": scale,
                                            "account_id": account_id, "windows": windows})

    def set_faults(self, account_id: str, **faults: Any) -> None:
        """Replace the account's faults, e.g. error_rate=0.2, next_errors=[503, "drop"], seed=1.

        Options: error_rate, error_statuses, retry_after, retry_after_seconds, delay, hang_rate,
        hang_next, hang_seconds, hang_after_processing, drop_rate, drop_next, html_403_rate,
        html_403_next, next_errors (ints or "drop"/"hang"/"html_403"), path_prefix, seed.
        """
        self._call("POST", f"/accounts/{account_id}/faults", faults)

    def clear_faults(self, account_id: str) -> None:
        self._call("DELETE", f"/accounts/{account_id}/faults")

    # ---- what the sandbox received ----------------------------------------------------------
    def requests(self, account_id: str) -> list[dict[str, Any]]:
        """Request log: method, path, status, key (`pk_…abcd`), time, duration_ms, body_size."""
        return self._call("GET", f"/accounts/{account_id}/requests")

    def profiles(self, account_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/accounts/{account_id}/profiles")

    def subscriptions(self, account_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/accounts/{account_id}/subscriptions")

    def unsubscriptions(self, account_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/accounts/{account_id}/unsubscriptions")

    def events(self, account_id: str, metric: str | None = None) -> list[dict[str, Any]]:
        params = {"metric": metric} if metric else None
        return self._call("GET", f"/accounts/{account_id}/events", params=params)

    def metrics(self, account_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/accounts/{account_id}/metrics")

    def flows(self, account_id: str) -> list[dict[str, Any]]:
        """{"id", "name", "metric_id", "status", "archived", "definition"} per flow."""
        return self._call("GET", f"/accounts/{account_id}/flows")

    def set_flow(self, account_id: str, *, status: str = "live", name: str = "Back in Stock",
                 metric: str = "Back in Stock", flow_id: str = "") -> dict[str, Any]:
        """Create a flow on `metric` with `status`, or (with `flow_id`) change a flow's status:
        what the merchant does in Klaviyo's editor."""
        body: dict[str, Any] = {"status": status, "name": name, "metric": metric}
        if flow_id:
            body["id"] = flow_id
        return self._call("POST", f"/accounts/{account_id}/flows", body)

    def deletions(self, account_id: str) -> list[dict[str, Any]]:
        """Data-privacy deletion jobs: {"id", "identifier", "profile_ids", "requested_at"}."""
        return self._call("GET", f"/accounts/{account_id}/deletions")

    def jobs(self, account_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/accounts/{account_id}/jobs")

    def stats(self, account_id: str) -> dict[str, Any]:
        """{"requests", "throttled", "duplicates_dropped", "events", "profiles", ...}."""
        return self._call("GET", f"/accounts/{account_id}/stats")
