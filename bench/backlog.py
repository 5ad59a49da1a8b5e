"""Backlog benchmark: 100,000 pending subscriptions synced after a merchant connects.

    .venv/bin/python bench/backlog.py [--count 100000] [--workers 3] [--consent 0.0]

What it does (loopback only, every process bounded and stopped):
1. A fresh database `notifyme_bench_backlog` (migrated) and Redis db 15 (override with
   BENCH_PG / BENCH_REDIS), the Klaviyo sandbox on a free port with Klaviyo's published rate
   limits ON, real RQ workers (`rqworker sync bulk`) and the sync sweeper as subprocesses,
   both as in production (the settings' worker class, the sweeper's default tick and sweep).
2. `--count` subscriptions (and their PROFILE_SYNC outbox rows) pile up while Klaviyo is not
   connected; then the merchant connects (`connection_connect`, which verifies the key and
   nudges the sync on commit) and the clock starts.
3. It waits until every outbox row is final (no row pending, no import job left to poll),
   then reads what the sandbox received.

Figures: elapsed; the limit-implied ceiling for the calls actually made (per operation, the
number of fixed 1-second windows its calls need at the published burst limit, checked against
the 60-second steady limit; operations have separate quotas and run side by side, so the
ceiling is the slowest operation); the ratio (target <= 1.15); accepted event and import calls
per 1-second clock window (a window under the limit is time the limits did not cost); 429s
caused by our own traffic (no faults are injected, so every 429 is ours; target 0); lost
subscribers (not list members in the sandbox; target 0); subscriptions still pending (target
0); CPU seconds per process (whole life, and during the run); the machine's speed before and
after (a fixed Python loop: this VM's speed drifts by a third); and PASS/FAIL.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Sandbox, add_worker_arguments, setup_env, verdict
from bench._cpu import postgres_server_cpu, reference_loop_ms, tree_cpu_seconds
from integrations.klaviyo.operations import OPERATIONS

DB_NAME = "notifyme_bench_backlog"
REDIS_DB = 15  # bench/memory.py uses 11, fanout 12, pipeline 13


def windows_needed(calls: int, burst: int, steady: int) -> int:
    """Fixed 1-s windows needed for `calls` when at most `burst` fit a second and `steady` a
    minute (windows aligned to the start, as Klaviyo's are to the clock)."""
    seconds = 0
    left = calls
    while left > 0:
        minute_left = steady
        for _ in range(60):
            if left <= 0 or minute_left <= 0:
                break
            take = min(burst, left, minute_left)
            left -= take
            minute_left -= take
            seconds += 1
        if left > 0 and minute_left <= 0:
            seconds = math.ceil(seconds / 60) * 60  # wait for the next minute
    return seconds


def _pattern(template: str) -> re.Pattern[str]:
    """The spec's path template as a regular expression (each `{id}` one path segment)."""
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts) + "$")


#: (method, path pattern) -> operation name, from the client's own table of operations.
_OPERATION_PATTERNS = [(op.method, _pattern(op.path), op.name) for op in OPERATIONS.values()]


def operation_of(method: str, path: str) -> str | None:
    """The client operation a logged sandbox request was (its name keys the published limits)."""
    path = path.rstrip("/")
    for op_method, pattern, name in _OPERATION_PATTERNS:
        if op_method == method and pattern.match(path):
            return name
    return None


def calls_per_second(requests: list[dict[str, Any]], operation: str, started: datetime
                     ) -> list[int]:
    """Accepted calls of `operation` per 1-s clock window (Klaviyo's windows are aligned to the
    clock), from the window the run started in: a window below the burst limit is time the
    limits did not cost."""
    first = int(started.timestamp())
    counts: Counter[int] = Counter()
    for request in requests:
        if (operation_of(request["method"], request["path"]) == operation
                and 200 <= request["status"] < 300):
            counts[int(datetime.fromisoformat(request["time"]).timestamp()) - first] += 1
    return [counts[second] for second in range(max(counts, default=-1) + 1)]


def ceiling(calls: Counter[str]) -> tuple[float, dict[str, int]]:
    """Seconds the published limits need for these calls: operations have separate quotas and
    run side by side, so the slowest one decides (import jobs are polled right after they are
    created, so polling adds no limit-implied wait)."""
    from integrations.klaviyo.ratelimit import published_limits

    per_op: dict[str, int] = {}
    for operation, count in calls.items():
        limits = published_limits(operation)
        per_op[operation] = windows_needed(count, limits["burst"], limits["steady"])
    return float(max(per_op.values(), default=0)), per_op


def seed(count: int, consent: float) -> tuple[Any, Any]:
    """A shop with a sold-out variant and `count` pending subscriptions + outbox rows."""
    from django.db import connection

    from notifyme.catalog.models import Product, Variant
    from notifyme.shops.models import Shop
    from notifyme.subscriptions.models import Subscription
    from notifyme.sync.models import OutboxItem

    shop = Shop.objects.create(domain="bench-backlog.myshopify.com", name="Backlog Bench")
    product = Product.objects.create(shop=shop, shopify_id=9001, title="Linen Shirt",
                                     handle="linen-shirt",
                                     image_url="https://cdn.example.com/shirt.jpg")
    variant = Variant.objects.create(shop=shop, product=product, shopify_id=4001, title="Large",
                                     sku="SKU-4001", price="49.00", available_quantity=0)
    every = max(1, round(1 / consent)) if consent > 0 else 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Subscription._meta.db_table} (shop_id, variant_id, email, phone, "  # noqa: S608
            "first_name, notify_by_email, notify_by_sms, marketing_consent, consent_text_version, "
            "source, locale, quantity_wanted, status, sync_state, sync_error, "
            "klaviyo_profile_id, unsubscribe_token, consented_at, created_at, updated_at) "
            "SELECT %s, %s, 'shopper' || g || '@shop.test', '', 'Ann', true, false, "
            "(%s > 0 AND g %% GREATEST(%s, 1) = 0), '', 'storefront', 'en-US', 1, 'active', "
            "'pending', '', '', md5('backlog' || g), "
            "CASE WHEN %s > 0 AND g %% GREATEST(%s, 1) = 0 THEN now() END, now(), now() "
            "FROM generate_series(1, %s) g",
            [shop.pk, variant.pk, every, every, every, every, count])
        cursor.execute(
            f"INSERT INTO {OutboxItem._meta.db_table} (shop_id, subscription_id, kind, state, "  # noqa: S608
            "attempts, available_at, lease_token, steps_needed, steps_done, phone_issue, "
            "last_error, created_at) SELECT shop_id, id, 'profile_sync', 'pending', 0, now(), '', "
            f"0, 0, '', '', now() FROM {Subscription._meta.db_table} WHERE shop_id = %s",
            [shop.pk])
    return shop, variant


def finished(shop_id: int) -> bool:
    """Every outbox row of the shop final: none pending (claimed rows stay pending until their
    outcome is saved) and no import job left to poll (rows waiting on one are `waiting`, and
    the poll that finishes the job finishes them in the same transaction). One statement, so
    one snapshot.

    Both EXISTS read partial/leading-column indexes and stop at the first live row: this runs
    every 0.1 s beside the workers, and an earlier COUNT over `sync_state` (no index) read
    100,000 heap rows per poll — 31 ms of PostgreSQL CPU each, half of the database's work in
    the run, taken from the system under test.
    """
    from django.db import connection

    from notifyme.sync.models import ImportBatch, OutboxItem

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {OutboxItem._meta.db_table} "  # noqa: S608
            "WHERE shop_id = %s AND state = 'pending') OR EXISTS (SELECT 1 FROM "
            f"{ImportBatch._meta.db_table} WHERE shop_id = %s AND state = 'pending')",
            [shop_id, shop_id])
        return not cursor.fetchone()[0]


def run(args: argparse.Namespace) -> bool:
    setup_env(DB_NAME, REDIS_DB, extra={
        "SYNC_IMPORT_FIRST_POLL_SECONDS": str(args.first_poll),
        "SYNC_BULK_CLAIM": str(args.claim),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING")})
    from django.db.models import Count

    from integrations.klaviyo.services import connection_connect
    from notifyme.subscriptions.models import Subscription
    from notifyme.sync.models import OutboxItem
    from tests.sync.workers import start_sweeper, start_workers, stop_workers, worker_env

    sandbox = Sandbox.start(limits=True, threads=32)
    processes = []
    try:
        account = sandbox.admin.create_account("Backlog Bench")
        key = sandbox.admin.create_key(account["id"], "all")
        list_id = sandbox.admin.create_list(account["id"], "Back in Stock")
        started = time.monotonic()
        shop, _ = seed(args.count, args.consent)
        print(f"seeded {args.count:,} pending subscriptions in {time.monotonic() - started:.1f}s")
        env = worker_env()
        processes += start_workers(args.workers, env=env, with_scheduler=False,
                                   worker_class=args.worker_class or None)
        processes.append(start_sweeper(env, interval=60.0, tick=0.1))  # production defaults
        time.sleep(2.0)  # let the workers import Django
        speed_before = reference_loop_ms()
        pg_before = postgres_server_cpu()
        sandbox_before = tree_cpu_seconds(sandbox.proc.pid)
        workers_before = sum(tree_cpu_seconds(p.pid) for p in processes if p.name != "sweeper")
        connect_started = time.monotonic()
        connection_connect(shop=shop, private_key=key, list_id=list_id)  # nudges on commit
        started = time.monotonic()
        wall_started = datetime.now(UTC)
        print(f"connected (key verified) in {started - connect_started:.2f}s; syncing ...")
        deadline = started + args.timeout
        while not finished(shop.pk):
            if time.monotonic() > deadline:
                print("timed out")
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        cpu = {"sandbox": tree_cpu_seconds(sandbox.proc.pid),
               "workers": sum(tree_cpu_seconds(p.pid) for p in processes
                              if p.name != "sweeper"),
               "sweeper": sum(tree_cpu_seconds(p.pid) for p in processes
                              if p.name == "sweeper"),
               "postgres (whole server)": postgres_server_cpu() - pg_before}
        in_run = {"sandbox": cpu["sandbox"] - sandbox_before,
                  "workers": cpu["workers"] - workers_before,
                  "postgres": cpu["postgres (whole server)"]}
        speed_after = reference_loop_ms()
        logs = [p.output(tail=10**9) for p in processes]
        jobs = sum(log.count("Job OK") for log in logs)
        problems = [line for log in logs for line in log.splitlines()
                    if "Traceback" in line or "ERROR" in line or "WARNING" in line
                    or "Error" in line]
    finally:
        stop_workers(processes, grace=5)
    try:
        stats = sandbox.admin.stats(account["id"])
        requests = sandbox.admin.requests(account["id"])
    finally:
        sandbox.stop()
    calls: Counter[str] = Counter()
    for request in requests:
        operation = operation_of(request["method"], request["path"])
        if operation and 200 <= request["status"] < 300:
            calls[operation] += 1
    limit_ceiling, per_op = ceiling(calls)
    states = dict(OutboxItem.objects.filter(shop=shop).values_list("state")
                  .annotate(n=Count("id")).order_by())
    unsynced = Subscription.objects.filter(shop=shop, sync_state="pending").count()
    members = stats["list_members"].get(list_id, 0)
    lost = args.count - members
    ratio = elapsed / limit_ceiling if limit_ceiling else float("inf")
    throttled = stats["throttled"]
    print(f"subscriptions:        {args.count:,} (consent {args.consent:.0%})")
    worker_class = args.worker_class or "notifyme.delivery.worker.Worker (settings.RQ)"
    print(f"workers:              {args.workers} {worker_class}, claim {args.claim:,}")
    print(f"calls (2xx):          {dict(calls)}")
    print(f"sync jobs run:        {jobs}")
    for line in problems[:20]:
        print(f"  worker log: {line[:200]}")
    if os.environ.get("BENCH_DUMP_LOGS"):
        Path(os.environ["BENCH_DUMP_LOGS"]).write_text("\n=====\n".join(logs))
    print(f"windows per op:       {per_op}")
    for operation in ("bulk_create_events", "bulk_import_profiles"):
        print(f"{operation} per clock second: "
              f"{calls_per_second(requests, operation, wall_started)}")
    print(f"elapsed:              {elapsed:.2f}s")
    print(f"limit ceiling:        {limit_ceiling:.2f}s")
    print(f"ratio:                {ratio:.3f} (target <= 1.15)")
    print(f"429s caused by us:    {throttled} (target 0)")
    print(f"profiles / members:   {stats['profiles']:,} / {members:,}")
    print(f"events:               {stats['events_by_metric']}")
    print(f"consent records:      {stats['subscriptions']:,}")
    print(f"outbox states:        {states}")
    print(f"lost:                 {lost} (target 0)")
    print(f"still pending:        {unsynced} subscriptions (target 0)")
    print("cpu seconds:          " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    print("  of which in the run: " + ", ".join(f"{k} {v:.1f}" for k, v in in_run.items())
          + f" = {sum(in_run.values()):.1f} of {2 * elapsed:.1f} core-seconds")
    print(f"machine speed:        reference loop {speed_before:.0f} ms before, "
          f"{speed_after:.0f} ms after (lower is faster)")
    ok = ratio <= 1.15 and throttled == 0 and lost == 0 and unsynced == 0
    print(verdict(ok))
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    add_worker_arguments(parser, workers=int(os.environ.get("BENCH_WORKERS", 3)))
    parser.add_argument("--consent", type=float, default=0.0,
                        help="share of shoppers who gave marketing consent (0..1)")
    parser.add_argument("--first-poll", type=float, default=0.5,
                        help="seconds before the first import-job poll")
    parser.add_argument("--claim", type=int, default=10_000,
                        help="rows per bulk claim (SYNC_BULK_CLAIM)")
    parser.add_argument("--timeout", type=float, default=900)
    sys.exit(0 if run(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
