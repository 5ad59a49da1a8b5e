"""Klaviyo's fixed-window rate limits, per account and per operation bucket.

Contract: `RateLimiter.check(account_id, bucket, limits)` counts one request against every window
of the bucket (burst = 1 s, steady = 60 s, daily = 1 day, aligned to the wall clock like fixed
windows) and returns a `Decision`. A request refused by any window is not counted. All keys of
an account share the buckets, as Klaviyo's per-account quota does. Limits can be switched off or
scaled (limit x scale, at least 1) globally or per account at run time.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from .spec import WINDOW_SECONDS


@dataclass
class Decision:
    allowed: bool
    retry_after: int = 0
    window: str | None = None  # the window that refused the request
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Settings:
    enabled: bool = True
    scale: float = 1.0
    windows: dict[str, float] = field(default_factory=dict)  # per-window scale overrides


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.default = Settings()
        self.per_account: dict[str, Settings] = {}
        # (account, bucket, window) -> (window index, count)
        self._counts: dict[tuple[str, str, str], tuple[int, int]] = {}

    def reset(self) -> None:
        with self._lock:
            self.default = Settings()
            self.per_account.clear()
            self._counts.clear()

    def configure(self, *, enabled: bool = True, scale: float = 1.0,
                  account_id: str | None = None, windows: dict[str, float] | None = None
                  ) -> None:
        """Global settings (and clear per-account overrides) or one account's override.

        `windows` scales single windows instead of `scale`, e.g. {"daily": 0.1}.
        """
        overrides = {k: float(v) for k, v in (windows or {}).items()}
        if scale <= 0 or any(v <= 0 for v in overrides.values()):
            raise ValueError("scale must be positive")
        if set(overrides) - set(WINDOW_SECONDS):
            raise ValueError(f"windows may only be {', '.join(WINDOW_SECONDS)}")
        with self._lock:
            if account_id is None:
                self.default = Settings(enabled, scale, overrides)
                self.per_account.clear()
            else:
                self.per_account[account_id] = Settings(enabled, scale, overrides)

    def settings(self, account_id: str) -> Settings:
        return self.per_account.get(account_id, self.default)

    def effective(self, account_id: str, limits: dict[str, int]) -> dict[str, int]:
        settings = self.settings(account_id)
        return {name: max(1, int(count * settings.windows.get(name, settings.scale)))
                for name, count in limits.items()}

    def check(self, account_id: str, bucket: str, limits: dict[str, int],
              now: float | None = None) -> Decision:
        now = time.time() if now is None else now
        settings = self.settings(account_id)
        limits = self.effective(account_id, limits)
        if not settings.enabled:
            steady = limits.get("steady", 0)
            return Decision(True, headers=_headers(steady, steady, now, 60))
        with self._lock:
            current: dict[str, tuple[int, int]] = {}
            refused: list[tuple[int, str]] = []
            for name, limit in limits.items():
                size = WINDOW_SECONDS[name]
                index = int(now // size)
                seen_index, count = self._counts.get((account_id, bucket, name), (index, 0))
                count = count if seen_index == index else 0
                current[name] = (index, count)
                if count >= limit:
                    wait = math.ceil((index + 1) * size - now)
                    refused.append((max(1, wait), name))
            if refused:
                wait, window = max(refused)
                return Decision(False, wait, window)
            for name, (index, count) in current.items():
                self._counts[(account_id, bucket, name)] = (index, count + 1)
            steady = limits.get("steady", 0)
            used = current.get("steady", (0, 0))[1] + 1
            return Decision(True, headers=_headers(steady, steady - used, now, 60))


def _headers(limit: int, remaining: int, now: float, size: int) -> dict[str, str]:
    """`RateLimit-*` describing the steady window (Klaviyo sends them on non-429 answers)."""
    reset = max(0, math.ceil((int(now // size) + 1) * size - now))
    return {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(max(0, remaining)),
            "RateLimit-Reset": str(reset)}
