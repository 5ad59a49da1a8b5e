"""The catalog's knobs: a Django setting of the same name wins, else the environment, else the
default (like `notifyme.delivery.conf`)."""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS: dict[str, float] = {
    # Each installed shop's waiting variants are re-read from Shopify at most this often.
    "CATALOG_RECONCILE_MINUTES": 15.0,
    # Variants per `variants_inventory` call (the client splits them into cost-safe queries).
    "CATALOG_RECONCILE_BATCH": 50.0,
}


def value(name: str) -> float:
    configured = getattr(settings, name, None)
    if configured is None:
        configured = os.environ.get(name, "").strip() or None
    return float(configured) if configured is not None else DEFAULTS[name]


def reconcile_minutes() -> float:
    return value("CATALOG_RECONCILE_MINUTES")


def reconcile_batch() -> int:
    return max(1, int(value("CATALOG_RECONCILE_BATCH")))
