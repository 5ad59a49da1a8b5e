"""Our own pipeline's speed with Klaviyo's limits OFF: is our code ever the bottleneck?

    .venv/bin/python bench/pipeline.py [--subscribers 200000] [--workers 6]

1. Queries per 1,000 subscribers, counted with Django's CaptureQueriesContext around the whole
   fan-out run in this process, for a 1,000- and a 10,000-subscriber restock: every chunk of
   1,000 costs the same fixed number of statements (no N+1), so 10,000 costs 9 more chunks'
   worth than 1,000 and the per-1,000 figure only falls as the fixed tail cost is shared.
2. End to end: a restock of `--subscribers` fanned out by real RQ worker processes to the
   sandbox (rate limits off): from the restock's commit to the last event accepted by the
   sandbox. Floor: >= 10,000 events/s. Also checks every event arrived exactly once.
Database notifyme_bench_pipeline, Redis db 13; loopback only; bounded (exit 1 on FAIL).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as c
from bench._cpu import CpuMeter

FLOOR_EVENTS_PER_SECOND = 10_000


def fanout_in_process(restock_id: int) -> None:
    from notifyme.restocks.fanout import fanout_send_chunk

    while fanout_send_chunk(restock_id=restock_id).claimed:
        pass


def queries_per_thousand(shop, product, n: int, shopify_id: int) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifyme.catalog.models import Variant
    from notifyme.catalog.services import variant_update_stock
    from notifyme.restocks.materialise import materialise_run
    from notifyme.restocks.services import detection_of

    variant = Variant.objects.create(shop=shop, product=product, shopify_id=shopify_id,
                                     title=f"V{shopify_id}", sku=f"SKU-{shopify_id}",
                                     price="10.00", available_quantity=0)
    c.bulk_subscribers(shop, variant, n, prefix=f"q{shopify_id}-")
    restock = detection_of(variant_update_stock(variant=variant, quantity=5)).restock
    assert restock is not None
    # Every row first (a bigger restock starts with its first chunk): the queries counted are
    # the fan-out's alone.
    materialise_run(restock_id=restock.pk, seconds=600)
    with CaptureQueriesContext(connection) as captured:
        fanout_in_process(restock.pk)
    restock.refresh_from_db()
    assert restock.sent == n, (restock.sent, n)
    return len(captured), len(captured) / (n / 1000)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=200_000)
    c.add_worker_arguments(parser, workers=6)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    c.setup_env("notifyme_bench_pipeline", 13, extra=c.NO_LIMITS)
    sandbox = c.Sandbox.start(limits=False)
    workers: c.Workers | None = None
    try:
        from notifyme.catalog.services import variant_update_stock
        from notifyme.core.redis import get_redis
        from notifyme.restocks.models import Restock
        from notifyme.restocks.services import detection_of

        shop, variant, account_id = c.make_shop_connected(
            sandbox, domain="pipeline-bench.myshopify.com", name="Pipeline Bench")
        q1, per1 = queries_per_thousand(shop, variant.product, 1_000, 5001)
        q10, per10 = queries_per_thousand(shop, variant.product, 10_000, 5002)
        marginal = (q10 - q1) / 9
        print(f"queries: 1,000 subscribers -> {q1} ({per1:.1f} per 1,000); "
              f"10,000 subscribers -> {q10} ({per10:.1f} per 1,000); each further chunk of "
              f"1,000 costs {marginal:.1f} queries (the rest is the fixed cost of the last, "
              f"empty claim and the completion)")
        constant = marginal == int(marginal) and q10 <= 10 * q1 and marginal <= q1
        print(f"queries per 1,000 constant (no N+1): {c.verdict(constant)}")
        get_redis().flushdb()
        already = sandbox.admin.stats(account_id)["events"]

        inserted = c.bulk_subscribers(shop, variant, args.subscribers)
        print(f"inserted {args.subscribers:,} subscriptions in {inserted:.1f} s")
        workers = c.Workers.start(args.workers, worker_class=args.worker_class)
        meter = CpuMeter(workers, sandbox).start()
        t0 = time.monotonic()
        restock = detection_of(variant_update_stock(variant=variant, quantity=50)).restock
        t1 = time.monotonic()
        assert restock is not None  # its first chunk of rows; the workers write the rest
        target = already + args.subscribers
        done = c.wait_until(lambda: sandbox.admin.stats(account_id)["events"] >= target,
                            timeout=args.timeout, interval=0.1)
        t2 = time.monotonic()
        stats = sandbox.admin.stats(account_id)
        # Klaviyo has every event; the last chunks' workers may still be committing "sent".
        c.wait_until(lambda: Restock.objects.get(pk=restock.pk).sent >= args.subscribers,
                     timeout=30, interval=0.1)
        restock = Restock.objects.get(pk=restock.pk)
        assert restock.total == args.subscribers, f"total {restock.total}"
        fanout = t2 - t1
        rate = args.subscribers / fanout
        print(f"restock #{restock.pk}: detect + insert the first chunk of deliveries "
              f"{t1 - t0:.2f} s (the workers write the rest while they send)")
        fast = done and rate >= FLOOR_EVENTS_PER_SECOND
        print(f"fan-out: {args.subscribers:,} events accepted in {fanout:.2f} s = "
              f"{rate:,.0f} events/s with {args.workers} workers (limits off); "
              f"floor {FLOOR_EVENTS_PER_SECOND:,}/s -> {c.verdict(fast)}")
        print(f"end to end incl. insert: {args.subscribers / (t2 - t0):,.0f} events/s")
        print(meter.report(args.subscribers))
        ids = [e["unique_id"] for e in sandbox.admin.events(account_id, metric="Back in Stock")
               if e["unique_id"].startswith(f"notifyme:bis:{restock.pk}:")]
        exact = len(ids) == args.subscribers == len(set(ids)) == restock.sent
        print(f"events for this restock: {len(ids):,}, distinct {len(set(ids)):,}, "
              f"duplicates dropped by the sandbox {stats['duplicates_dropped']}, "
              f"restock.sent {restock.sent:,} -> {c.verdict(exact)}")
        ok = done and constant and exact and rate >= FLOOR_EVENTS_PER_SECOND
        print(f"pipeline: {c.verdict(ok)}")
        return 0 if ok else 1
    finally:
        if workers:
            workers.stop()
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
