"""Webhook knobs: a Django setting of the same name wins, else the environment, else the default
(the pattern of `notifyme.delivery.conf`). Names and defaults are a stable interface."""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS: dict[str, float] = {
    # Largest body the intake reads (413 beyond). Shopify's product payloads list at most 100
    # variants (a few hundred KB with images); 1 MiB leaves room and bounds memory per request.
    "WEBHOOK_MAX_BODY_BYTES": 1024 * 1024.0,
    # How long a job holds the events it claimed; renewed while it works through them.
    "WEBHOOK_LEASE_SECONDS": 60.0,
    # Events one round claims (processed one by one, oldest first).
    "WEBHOOK_CLAIM": 50.0,
    # Tries of an event whose handler keeps saying "retry later" (backoff doubles from 2 s up
    # to 15 min: 12 tries cover about 3 h) before it fails visibly.
    "WEBHOOK_MAX_ATTEMPTS": 12.0,
    # Days before processed / ignored events are deleted (their webhook ids dedupe Shopify's
    # retries, which stop after 4 h), and before failed ones are (support looks at them).
    "WEBHOOK_DONE_RETENTION_DAYS": 7.0,
    "WEBHOOK_FAILED_RETENTION_DAYS": 30.0,
}


def value(name: str) -> float:
    configured = getattr(settings, name, None)
    if configured is None:
        configured = os.environ.get(name, "").strip() or None
    return float(configured) if configured is not None else DEFAULTS[name]


def max_body_bytes() -> int:
    return max(1024, int(value("WEBHOOK_MAX_BODY_BYTES")))


def lease_seconds() -> float:
    return max(5.0, value("WEBHOOK_LEASE_SECONDS"))


def claim_size() -> int:
    return max(1, int(value("WEBHOOK_CLAIM")))


def max_attempts() -> int:
    return max(1, int(value("WEBHOOK_MAX_ATTEMPTS")))
