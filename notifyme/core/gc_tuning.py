"""Cyclic-GC tuning for processes that churn through batches: the RQ workers
(`notifyme.delivery.worker`) and the Klaviyo sandbox (`sandboxes.klaviyo.server`).

Django-free on purpose: the sandbox runs without Django.
"""

from __future__ import annotations

import gc

#: Container allocations between young-generation collections (CPython's default is 700).
GC_GEN0_THRESHOLD = 50_000


def relax_gc() -> None:
    """Far fewer cyclic-GC passes; what the process loaded at start is frozen out of collection.

    A sync or fan-out round, or a bulk request to the sandbox, builds hundreds of thousands of
    short-lived containers (rows, payload dicts, parsed JSON) that reference counting frees
    anyway. With the default gen-0 threshold the collector ran every 700 of them and regularly
    re-walked everything loaded at start (Django and the app's modules; the spec and schemas in
    the sandbox) and, in the sandbox, the growing account state — a large share of a bulk
    round's CPU (bench/backlog.py; figures in docs/benchmarks.md). Frozen objects are never
    walked again.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
