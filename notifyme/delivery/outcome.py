"""What one round of any kind of delivery did: the one outcome type of the pipeline.

Counters say what happened to the claimed rows; `wait` / `retry_error` / `halted` say what the
job does next (a delayed nudge after the wait, backoff, stop: the merchant must act).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    claimed: int = 0
    full: bool = False  # the claim got every row it asked for
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0  # handed back (rate limit, halt, backoff)
    wait: float = 0.0  # come back after this many seconds (0: no wait asked)
    halted: bool = False
    retry_error: str = ""  # an outage: rows backed off with an attempt counted
    counts: dict[str, int] | None = None  # per-state counts written by the outcome, if any
    notes: list[str] = field(default_factory=list)

    def come_back_in(self, seconds: float) -> None:
        """Ask for a later nudge in at least `seconds` (the longest request wins)."""
        self.wait = max(self.wait, seconds)
