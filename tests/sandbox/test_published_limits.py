"""The production limiter's table of Klaviyo's published limits is the spec's.

Production keeps the limits as constants (`integrations.klaviyo.ratelimit.PUBLISHED_LIMITS`) and
never reads the spec; this pins that table to `x-klaviyo-ratelimit` of every operation, read
by the sandbox from the spec (or its own copy of it, itself pinned in test_cli.py).
"""

from __future__ import annotations

from integrations.klaviyo.operations import OPERATIONS
from integrations.klaviyo.ratelimit import PUBLISHED_LIMITS
from sandboxes.klaviyo.spec import load_operations


def test_the_table_covers_exactly_the_client_operations() -> None:
    assert set(PUBLISHED_LIMITS) == set(OPERATIONS)


def test_the_table_is_the_published_limits() -> None:
    spec = {(op.method.upper(), op.path): op.limits for op in load_operations()}
    mismatches = {
        name: (PUBLISHED_LIMITS[name], spec.get((op.method, op.path)))
        for name, op in OPERATIONS.items()
        if PUBLISHED_LIMITS[name] != spec.get((op.method, op.path))
    }
    assert not mismatches  # operation: (table, spec)
