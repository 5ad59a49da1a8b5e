"""Tunables of the restock fan-out (Django setting, else environment variable, else default)."""

from __future__ import annotations

import os

from django.conf import settings


def _number(name: str, default: float) -> float:
    value = getattr(settings, name, None)
    if value is None:
        raw = os.environ.get(name, "").strip()
        value = float(raw) if raw else default
    return float(value)


def chunk_size() -> int:
    """Deliveries per job = events per bulk request (Klaviyo's maximum is 1,000)."""
    return max(1, min(1000, int(_number("RESTOCK_CHUNK_SIZE", 1000))))


def lease_seconds() -> int:
    """How long a claimed chunk is ours; a dead worker's chunk is claimable after this."""
    return max(5, int(_number("RESTOCK_LEASE_SECONDS", 60)))


def chains() -> int:
    """Chunks of one restock in flight at once (each job enqueues its successor on claim)."""
    return max(1, int(_number("RESTOCK_FANOUT_CHAINS", 4)))


def alive_seconds() -> int:
    """A restock with a fan-out job seen within this is not re-nudged by the sweeper."""
    return max(5, int(_number("RESTOCK_ALIVE_SECONDS", 30)))
