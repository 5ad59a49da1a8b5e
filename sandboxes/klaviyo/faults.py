"""Fault injection per account: the failures a merchant's sync can meet, on demand.

Contract: `FaultConfig.decide(path)` returns the `Fault` to apply to one request (or None), and
`delay` seconds are slept before answering any matching request. Queued faults (`next_errors`,
`html_403_next`, `drop_next`, `hang_next`) are served first, in order; then probabilities
(`html_403_rate`, `drop_rate`, `hang_rate`, `error_rate`) are drawn from a `random.Random(seed)`
so a seeded run is reproducible. `path_prefix` limits faults to matching paths. Hangs are
bounded (`MAX_HANG` seconds) and end early when the sandbox is reset.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

MAX_HANG = 120.0
MAX_DELAY = 60.0
NAMED = ("drop", "hang", "html_403")


@dataclass(frozen=True)
class Fault:
    kind: str  # "status" | "drop" | "hang" | "html_403"
    status: int = 0
    retry_after: bool = True


@dataclass
class FaultConfig:
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=lambda: [500, 502, 503])
    retry_after: bool = True
    retry_after_seconds: int = 1
    delay: float = 0.0
    hang_rate: float = 0.0
    hang_next: int = 0
    hang_seconds: float = 30.0
    hang_after_processing: bool = False
    drop_rate: float = 0.0
    drop_next: int = 0
    html_403_rate: float = 0.0
    html_403_next: int = 0
    next_errors: list[Any] = field(default_factory=list)
    path_prefix: str | None = None
    seed: int | None = None
    served: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> FaultConfig:
        known = {f for f in cls.__dataclass_fields__ if not f.startswith("_") and f != "served"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(unknown)}")
        config = cls(**options)
        config.delay = min(max(0.0, float(config.delay)), MAX_DELAY)
        config.hang_seconds = min(max(0.0, float(config.hang_seconds)), MAX_HANG)
        for status in [*config.error_statuses, *config.next_errors]:
            if not (status in NAMED or (isinstance(status, int) and 400 <= status <= 599)):
                raise ValueError(f"bad fault status {status!r}")
        config._rng = random.Random(config.seed)
        return config

    def applies(self, path: str) -> bool:
        return not self.path_prefix or path.startswith(self.path_prefix)

    def decide(self, path: str) -> Fault | None:
        if not self.applies(path):
            return None
        with self._lock:
            fault = self._queued() or self._drawn()
            if fault is not None:
                self.served += 1
            return fault

    def _queued(self) -> Fault | None:
        if self.next_errors:
            return self._make(self.next_errors.pop(0))
        for name in ("html_403", "drop", "hang"):
            attr = f"{name}_next"
            if getattr(self, attr) > 0:
                setattr(self, attr, getattr(self, attr) - 1)
                return Fault(name)
        return None

    def _drawn(self) -> Fault | None:
        for name, rate in (("html_403", self.html_403_rate), ("drop", self.drop_rate),
                           ("hang", self.hang_rate)):
            if rate and self._rng.random() < rate:
                return Fault(name)
        if self.error_rate and self._rng.random() < self.error_rate and self.error_statuses:
            return self._make(self._rng.choice(self.error_statuses))
        return None

    def _make(self, value: Any) -> Fault:
        if value in NAMED:
            return Fault(str(value))
        return Fault("status", int(value), self.retry_after)

    def public(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if not k.startswith("_")}


HTML_403 = (
    "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title></head>"
    "<body><h1>Checking your browser before accessing a.klaviyo.com.</h1>"
    "<p>This process is automatic.</p></body></html>"
)
