"""Stock write → first "Back in Stock" event accepted, for a variant with 1,000,000 waiting.

    .venv/bin/python bench/restock_first_event.py [--subscribers 1000000] [--runs 3]
        [--workers 4] [--fanout-runs N] [--materialise-runs N] [--reuse]

Per run: a fresh variant with that many active subscriptions (one INSERT … SELECT
generate_series, `_common.bulk_subscribers`), a fresh sandbox account (so its request log holds
this run only), fresh RQ workers + the sweeper (real processes, as in production), then the
catalog's stock write that starts the restock. Measured on the wall clock shared with the
sandbox (same machine):

- first event: from just before `variant_update_stock` to the `time` the sandbox logged the
  first accepted (2xx) event request of the account — its own record of when it accepted it;
- materialised: until every delivery row exists (`Restock.materialised_at`; on code without
  background materialisation, when the stock write returned — it inserted every row);
- all events: until the sandbox holds one event per subscriber, and the throughput that gives.

Sandbox limits OFF (and our limiter lifted), as in bench/memory.py: the whole fan-out of a
million is then bounded by our code, not by Klaviyo's published limits. PASS: every run's first
event < 2 s, every run complete with exactly `--subscribers` events and `sent`. Prints
min / median / max over the runs. Database notifyme_perf_first_event (`--db`), Redis db 8
(`--redis-db`); loopback only, bounded (exit 1 on FAIL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as c

CEILING = 2.0
EVENT_PATHS = ("/api/event-bulk-create-jobs", "/api/events")


def first_accepted(sandbox: c.Sandbox, account_id: str) -> float | None:
    """Unix time the sandbox logged its first accepted event request (None: none yet)."""
    times = [datetime.fromisoformat(r["time"]).timestamp()
             for r in sandbox.admin.requests(account_id)
             if r["path"] in EVENT_PATHS and 200 <= int(r["status"]) < 300]
    return min(times) if times else None


def listening(workers: int) -> None:
    """Wait until every worker has registered with RQ (imports done, ready for jobs): on this
    shared machine their start-up can take longer than `Workers.start`'s pause, and a first
    event measured against workers still importing Django would time their start-up."""
    from django_rq import get_connection
    from rq.worker import Worker

    redis = get_connection("bulk")
    if not c.wait_until(lambda: Worker.count(connection=redis) >= workers, timeout=120,
                        interval=0.1):
        raise RuntimeError("the workers never registered with RQ")


def materialised_at(restock_id: int) -> float | None:
    """When the restock's last delivery row was written (None while still materialising);
    code without the field materialised everything in the stock write."""
    from notifyme.restocks.models import Restock

    restock = Restock.objects.get(pk=restock_id)
    if not hasattr(restock, "materialised_at"):
        return 0.0
    when = restock.materialised_at
    return when.timestamp() if when is not None else None


def waiting_variant(shop, product, index: int, size: int, args, reused: list) -> tuple:
    """(variant, seconds seeding took): fresh subscribers, or with `--reuse` after the first
    run the same variant again — the previous restock cancelled, its notified subscribers
    active again, sold out (cool-down 0 h, so nobody is skipped)."""
    from notifyme.catalog.models import Variant
    from notifyme.catalog.services import variant_update_stock
    from notifyme.restocks.services import restock_settings_update
    from notifyme.subscriptions.models import Subscription

    if args.reuse and reused:
        variant = reused[0]
        started = time.monotonic()
        Subscription.objects.filter(variant=variant).exclude(status="active").update(
            status="active", notified_at=None)
        variant_update_stock(variant=variant, quantity=0)
        return variant, time.monotonic() - started
    restock_settings_update(shop=shop, cooldown_hours=0)
    variant = Variant.objects.create(shop=shop, product=product, shopify_id=7100 + index,
                                     title=f"Run {index}", sku=f"FIRST-{index}", price="10.00",
                                     available_quantity=0)
    reused.append(variant)
    return variant, c.bulk_subscribers(shop, variant, size, prefix=f"f{index}-")


def one_run(sandbox: c.Sandbox, shop, product, index: int, size: int, args,
            reused: list) -> dict[str, float]:
    from django.db import connection

    from integrations.klaviyo.services import connection_connect
    from notifyme.catalog.services import variant_update_stock
    from notifyme.restocks.models import Restock, RestockDelivery
    from notifyme.restocks.services import detection_of
    from notifyme.subscriptions.models import Subscription

    account = sandbox.admin.create_account(f"First Event {index}")
    connection_connect(shop=shop, private_key=sandbox.admin.create_key(account["id"], "all"))
    account_id = account["id"]
    variant, took = waiting_variant(shop, product, index, size, args, reused)
    with connection.cursor() as cursor:  # the same fresh statistics for every run and version
        cursor.execute(f"VACUUM ANALYZE {Subscription._meta.db_table}")
        cursor.execute(f"ANALYZE {RestockDelivery._meta.db_table}")
    pool = c.Workers.start(args.workers, worker_class=args.worker_class)
    try:
        listening(args.workers)
        wall0 = time.time()
        restock = detection_of(variant_update_stock(variant=variant, quantity=100)).restock
        returned = time.time() - wall0
        assert restock is not None
        # (The sandbox stores the events before it logs the request that carried them.)
        c.wait_until(lambda: first_accepted(sandbox, account_id) is not None,
                     timeout=args.timeout, interval=0.05)
        first = (first_accepted(sandbox, account_id) or float("inf")) - wall0
        materialised = float("nan")
        if index < args.materialise_runs:
            c.wait_until(lambda: materialised_at(restock.pk) is not None,
                         timeout=args.timeout, interval=0.1)
            mat = materialised_at(restock.pk) or 0.0
            materialised = max(returned, mat - wall0 if mat else returned)
        result = {"first": first, "returned": returned, "materialised": materialised,
                  "inserted": took}
        if index < args.fanout_runs:
            done = c.wait_until(lambda: sandbox.admin.stats(account_id)["events"] >= size,
                                timeout=args.timeout, interval=0.2)
            elapsed = time.time() - wall0
            c.wait_until(lambda: Restock.objects.get(pk=restock.pk).state == "completed",
                         timeout=60)
            restock.refresh_from_db()
            events = sandbox.admin.stats(account_id)["events"]
            result.update(all=elapsed if done else float("inf"), rate=size / elapsed,
                          ok=float(done and events == size and restock.sent == size
                                   and restock.total == size))
            print(f"  run {index + 1}: all {events:,} events in {elapsed:.1f} s = "
                  f"{size / elapsed:,.0f} events/s; restock {restock.state}, sent "
                  f"{restock.sent:,} / total {restock.total:,}")
        else:
            result["ok"] = 1.0
    finally:
        pool.stop()
    if index >= args.fanout_runs:  # the next run's workers must not send this one's rest
        from notifyme.restocks.services import restock_cancel

        restock_cancel(restock=restock)
    print(f"  run {index + 1}: {size:,} subscribers (seeded/reset in {took:.1f} s); stock write "
          f"returned in {returned:.2f} s; first event accepted {first:.2f} s after the stock "
          f"write (ceiling {CEILING:.0f} s); every delivery row written after "
          f"{materialised:.2f} s")
    return result


def spread(values: list[float]) -> str:
    return (f"min {min(values):.2f}  median {statistics.median(values):.2f}  "
            f"max {max(values):.2f}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    c.add_worker_arguments(parser, workers=4)
    parser.add_argument("--fanout-runs", type=int, default=None,
                        help="wait for the whole fan-out in the first N runs only (default:"
                             " all); the others stop once every row is written")
    parser.add_argument("--materialise-runs", type=int, default=None,
                        help="wait until every row is written in the first N runs only")
    parser.add_argument("--reuse", action="store_true",
                        help="seed once; later runs restock the same variant again")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--db", default="notifyme_perf_first_event")
    parser.add_argument("--redis-db", type=int, default=8)
    args = parser.parse_args()
    if args.fanout_runs is None:
        args.fanout_runs = args.runs
    if args.materialise_runs is None:
        args.materialise_runs = args.runs
    c.setup_env(args.db, args.redis_db, extra=c.NO_LIMITS)
    sandbox = c.Sandbox.start(limits=False)
    try:
        shop, variant, _ = c.make_shop_connected(
            sandbox, domain="first-event-bench.myshopify.com", name="First Event Bench")
        reused: list = []
        results = [one_run(sandbox, shop, variant.product, i, args.subscribers, args, reused)
                   for i in range(args.runs)]
    finally:
        sandbox.stop()
    firsts = [r["first"] for r in results]
    fast = all(f < CEILING for f in firsts)
    print(f"first event (s), {len(results)} runs: {spread(firsts)} (ceiling {CEILING:.0f} s) "
          f"-> {c.verdict(fast)}")
    print(f"stock write returned (s): {spread([r['returned'] for r in results])}")
    written = [r["materialised"] for r in results if r["materialised"] == r["materialised"]]
    if written:
        print(f"all rows materialised (s), {len(written)} runs: {spread(written)}")
    complete = all(r["ok"] for r in results)
    full = [r for r in results if "all" in r]
    if full:
        print(f"whole fan-out (s), {len(full)} runs: {spread([r['all'] for r in full])}; "
              f"events/s: {spread([r['rate'] for r in full])}")
        print(f"every event once, counters right: {c.verdict(complete)}")
    ok = fast and complete
    print(f"restock_first_event: {c.verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
