"""The one retry policy of every kind of delivery.

- Outages (5xx, timeouts, connection errors, an unreachable limiter) back off with full jitter,
  `backoff_seconds(attempts)`, and are retried while waiting can fix them.
- Errors waiting cannot fix, and the "record fails alone" resends of a 400 with pointers, are
  bounded by `MAX_ATTEMPTS`: after that many, the rows fail visibly with Klaviyo's detail.
- Rate limits and halts never count an attempt (the rows go back untouched).
"""

from __future__ import annotations

import random

#: Attempts (or requests, for pointed 400s) before a row that keeps failing is given up.
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 900.0


def backoff_seconds(attempts: int, *, base: float = BACKOFF_BASE_SECONDS,
                    cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Full-jitter exponential backoff: uniform in [0.5, 1] x min(cap, base x 2^(attempts-1))."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return ceiling * (0.5 + random.random() / 2)


def gives_up(attempts_so_far: int) -> bool:
    """Has a row that failed `attempts_so_far` times, and fails again now, had its last try?"""
    return attempts_so_far + 1 >= MAX_ATTEMPTS
