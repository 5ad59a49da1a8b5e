"""The pipeline's knobs, for every kind of work: a Django setting of the same name wins, else the
environment, else the default. (Environment fallbacks let worker processes in chaos tests and
benchmarks be tuned without touching settings.py.) Names and defaults are a stable interface.
"""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS: dict[str, float] = {
    # How long a claim holds outbox rows; renewed while a job works on them (calls.Lease).
    "SYNC_LEASE_SECONDS": 60.0,
    # First poll of a Klaviyo import job after it was created (then x2 up to 30 s).
    "SYNC_IMPORT_FIRST_POLL_SECONDS": 1.0,
    # Rows one bulk-lane job claims at a time (10,000 = one full Klaviyo import job).
    "SYNC_BULK_CLAIM": 10_000.0,
    # Consent older than this when it reaches Klaviyo goes as a historical import.
    "SYNC_HISTORICAL_CONSENT_AFTER_SECONDS": 3600.0,
    # Days before finished outbox rows (done) and the rest of the sync history (failed rows,
    # finished import jobs, the Klaviyo call log) are deleted (notifyme.sync.retention).
    "SYNC_DONE_RETENTION_DAYS": 7.0,
    "SYNC_HISTORY_RETENTION_DAYS": 90.0,
    # Deliveries per fan-out job = events per bulk request (Klaviyo's maximum is 1,000).
    "RESTOCK_CHUNK_SIZE": 1000.0,
    # How long a claimed chunk is ours; renewed at half-time while it is still being sent.
    "RESTOCK_LEASE_SECONDS": 60.0,
    # Chunks of one restock in flight at once (each job enqueues its successor on claim).
    "RESTOCK_FANOUT_CHAINS": 4.0,
    # A restock with a fan-out job seen within this is not re-nudged by the sweeper.
    "RESTOCK_ALIVE_SECONDS": 30.0,
    # Deliveries written in the stock write's transaction (the oldest subscribers): one full
    # fan-out chunk, so the first request can go at commit while that transaction stays short
    # (the other chains start as soon as the materialiser's first chunk lands).
    "RESTOCK_FIRST_CHUNK": 1000.0,
    # Deliveries the materialiser writes per transaction after that, and how long one
    # materialise job keeps going before it hands over to a successor job.
    "RESTOCK_MATERIALISE_CHUNK": 20000.0,
    "RESTOCK_MATERIALISE_SECONDS": 20.0,
}


def value(name: str) -> float:
    configured = getattr(settings, name, None)
    if configured is None:
        configured = os.environ.get(name, "").strip() or None
    return float(configured) if configured is not None else DEFAULTS[name]


def restock_chunk_size() -> int:
    return max(1, min(1000, int(value("RESTOCK_CHUNK_SIZE"))))


def restock_lease_seconds() -> int:
    return max(5, int(value("RESTOCK_LEASE_SECONDS")))


def restock_chains() -> int:
    return max(1, int(value("RESTOCK_FANOUT_CHAINS")))


def restock_alive_seconds() -> int:
    return max(5, int(value("RESTOCK_ALIVE_SECONDS")))


def restock_first_chunk() -> int:
    return max(1, int(value("RESTOCK_FIRST_CHUNK")))


def restock_materialise_chunk() -> int:
    return max(1, int(value("RESTOCK_MATERIALISE_CHUNK")))


def restock_materialise_seconds() -> float:
    return max(0.0, value("RESTOCK_MATERIALISE_SECONDS"))
