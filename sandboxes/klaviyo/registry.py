"""Accounts and private keys of the sandbox — the only place a full key is held.

Contract: keys live only in `Registry._keys` (in memory). Everything that leaves this module
(admin API, request log, HTML page) shows a key as `pk_…abcd`. A key has a set of scopes or
"all"; a revoked key stays known (so its requests are still logged against its account) but
fails authentication with 401 `authentication_failed`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .faults import FaultConfig
from .ids import mask_key, private_key, short_id
from .ratelimit import RateLimiter
from .state import AccountState

ALL = "all"


@dataclass
class KeyRecord:
    key: str
    account_id: str
    scopes: frozenset[str] | None  # None = every scope
    revoked: bool = False

    def missing(self, required: tuple[str, ...]) -> list[str]:
        if self.scopes is None:
            return []
        return [s for s in required if s not in self.scopes]

    def public(self) -> dict[str, Any]:
        scopes = ALL if self.scopes is None else sorted(self.scopes)
        return {"key": mask_key(self.key), "account_id": self.account_id, "scopes": scopes,
                "revoked": self.revoked}


def parse_scopes(scopes: list[str] | tuple[str, ...] | str | None) -> frozenset[str] | None:
    """`"all"`/None -> every scope; `"a,b"` or `["a", "b"]` -> that set."""
    if scopes is None:
        return None
    if isinstance(scopes, str):
        if scopes.strip() == ALL:
            return None
        scopes = [s for s in scopes.split(",")]
    return frozenset(s.strip() for s in scopes if s.strip())


class Registry:
    """All sandbox state: accounts, keys, rate limiter, faults. Thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, AccountState] = {}
        self._keys: dict[str, KeyRecord] = {}
        self.faults: dict[str, FaultConfig] = {}
        self.limiter = RateLimiter()
        self.wake = threading.Event()  # set on reset: ends injected hangs early
        self.unattributed: list[dict[str, Any]] = []

    def reset(self) -> None:
        """Wipe accounts, keys, faults and request logs; limits back to enabled, scale 1."""
        with self.lock:
            self.wake.set()
            self.wake = threading.Event()
            self.accounts.clear()
            self._keys.clear()
            self.faults.clear()
            self.unattributed.clear()
            self.limiter.reset()

    def create_account(self, name: str = "Sandbox Store",
                       account_id: str | None = None) -> AccountState:
        with self.lock:
            account_id = account_id or short_id()
            if account_id in self.accounts:
                raise ApiError(400, "invalid", f"Account {account_id} already exists.")
            account = AccountState(account_id, name)
            self.accounts[account_id] = account
            return account

    def account(self, account_id: str) -> AccountState:
        found = self.accounts.get(account_id)
        if found is None:
            raise ApiError(404, "not_found", f"No sandbox account {account_id}.")
        return found

    def create_key(self, account_id: str, scopes: Any = ALL, key: str | None = None) -> str:
        with self.lock:
            self.account(account_id)
            key = key or private_key()
            known = self._keys.get(key)
            if known is not None and known.account_id != account_id:
                raise ApiError(400, "invalid", f"Key {mask_key(key)} belongs to another account.")
            self._keys[key] = KeyRecord(key, account_id, parse_scopes(scopes))
            return key

    def key(self, key: str) -> KeyRecord:
        found = self._keys.get(key)
        if found is None:
            raise ApiError(404, "not_found", f"No sandbox key {mask_key(key)}.")
        return found

    def find_key(self, key: str | None) -> KeyRecord | None:
        return self._keys.get(key) if key else None

    def set_scopes(self, key: str, scopes: Any) -> None:
        self.key(key).scopes = parse_scopes(scopes)

    def revoke(self, key: str) -> None:
        self.key(key).revoked = True

    def keys(self, account_id: str | None = None) -> list[dict[str, Any]]:
        return [k.public() for k in list(self._keys.values())
                if account_id is None or k.account_id == account_id]

    def fault(self, account_id: str) -> FaultConfig | None:
        return self.faults.get(account_id)

    def set_faults(self, account_id: str, options: dict[str, Any]) -> FaultConfig:
        self.account(account_id)
        config = FaultConfig.from_options(options)
        self.faults[account_id] = config
        return config

    def clear_faults(self, account_id: str) -> None:
        self.faults.pop(account_id, None)
