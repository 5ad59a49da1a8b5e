"""Backlog benchmark: 100,000 pending subscriptions synced after a merchant connects.

    .venv/bin/python bench/backlog.py [--count 100000] [--workers 3] [--consent 0.0]

What it does (loopback only, every process bounded and stopped):
1. A fresh database `notifyme_bench_backlog` (migrated) and Redis db 15 (override with
   BENCH_PG / BENCH_REDIS), the Klaviyo sandbox on a free port with Klaviyo's published rate
   limits ON, real RQ workers (`rqworker sync bulk`) and the sync sweeper as subprocesses.
2. `--count` subscriptions (and their PROFILE_SYNC outbox rows) pile up while Klaviyo is not
   connected; then the merchant connects (`connection_connect`, which verifies the key and
   nudges the sync on commit) and the clock starts.
3. It waits until every outbox row is finished, then reads what the sandbox received.

Figures: elapsed; the limit-implied ceiling for the calls actually made (per operation, the
number of fixed 1-second windows its calls need at the published burst limit, checked against
the 60-second steady limit; operations have separate quotas and run side by side, so the
ceiling is the slowest operation); the ratio (target <= 1.15); 429s
caused by our own traffic (no faults are injected, so every 429 is ours; target 0); lost
subscribers (target 0); and PASS/FAIL.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Sandbox, setup_env, verdict

DB_NAME = "notifyme_bench_backlog"
REDIS_DB = 15  # bench/memory.py uses 11, fanout 12, pipeline 13
# Operation -> (client operation name, burst per second, steady per minute), from the spec.
OPERATIONS = {
    "/api/profile-bulk-import-jobs": "bulk_import_profiles",
    "/api/event-bulk-create-jobs": "bulk_create_events",
    "/api/profile-subscription-bulk-create-jobs": "bulk_subscribe",
    "/api/profile-import": "profile_import",
    "/api/events": "create_event",
}


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


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process, its reaped children (work horses) and its live
    descendants (the sandbox's gunicorn worker), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(int(k)) for k in kids)


def postgres_cpu() -> float:
    """CPU of the local PostgreSQL server and its backends (0.0 when not readable)."""
    try:
        pid = int(Path("/var/lib/postgresql/15/main/postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return cpu_seconds(pid)


def operation_of(path: str) -> str | None:
    path = path.rstrip("/")
    if path.startswith("/api/profile-bulk-import-jobs/"):
        return "get_bulk_import_errors" if path.endswith("import-errors") else (
            "get_bulk_import_job")
    if path.startswith("/api/lists/") and path.endswith("/relationships/profiles"):
        return "add_profiles_to_list"
    return OPERATIONS.get(path)


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


def finished(shop_id: int, count: int) -> bool:
    """Every subscription synced or failed — read from one cheap index-only count.

    (Polling `exists()` on outbox states every few ms would seq-scan 100,000 rows and steal the
    database CPU the workers need.)"""
    from notifyme.subscriptions.models import Subscription

    return Subscription.objects.filter(shop_id=shop_id, sync_state="pending").count() == 0


def run(args: argparse.Namespace) -> bool:
    setup_env(DB_NAME, REDIS_DB, extra={
        "SYNC_IMPORT_FIRST_POLL_SECONDS": str(args.first_poll),
        "SYNC_BULK_CLAIM": str(args.claim),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING")})
    from django.db.models import Count

    from integrations.klaviyo.services import connection_connect
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
        processes.append(start_sweeper(env, interval=5.0, tick=0.02))
        time.sleep(2.0)  # let the workers import Django
        pg_before = postgres_cpu()
        connect_started = time.monotonic()
        connection_connect(shop=shop, private_key=key, list_id=list_id)  # nudges on commit
        started = time.monotonic()
        print(f"connected (key verified) in {started - connect_started:.2f}s; syncing ...")
        deadline = started + args.timeout
        while not finished(shop.pk, args.count):
            if time.monotonic() > deadline:
                print("timed out")
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        cpu = {"sandbox": cpu_seconds(sandbox.proc.pid),
               "workers": sum(cpu_seconds(p.pid) for p in processes if p.name != "sweeper"),
               "sweeper": sum(cpu_seconds(p.pid) for p in processes if p.name == "sweeper"),
               "postgres (whole server)": postgres_cpu() - pg_before}
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
        operation = operation_of(request["path"])
        if operation and 200 <= request["status"] < 300:
            calls[operation] += 1
    limit_ceiling, per_op = ceiling(calls)
    states = dict(OutboxItem.objects.filter(shop=shop).values_list("state")
                  .annotate(n=Count("id")).order_by())
    members = stats["list_members"].get(list_id, 0)
    lost = args.count - members
    ratio = elapsed / limit_ceiling if limit_ceiling else float("inf")
    throttled = stats["throttled"]
    print(f"subscriptions:        {args.count:,} (consent {args.consent:.0%})")
    print(f"workers:              {args.workers} {args.worker_class or '(forking rq.Worker)'}, "
          f"claim {args.claim:,}")
    print(f"calls (2xx):          {dict(calls)}")
    print(f"sync jobs run:        {jobs}")
    for line in problems[:20]:
        print(f"  worker log: {line[:200]}")
    if os.environ.get("BENCH_DUMP_LOGS"):
        Path(os.environ["BENCH_DUMP_LOGS"]).write_text("\n=====\n".join(logs))
    print(f"windows per op:       {per_op}")
    print(f"elapsed:              {elapsed:.2f}s")
    print(f"limit ceiling:        {limit_ceiling:.2f}s")
    print(f"ratio:                {ratio:.3f} (target <= 1.15)")
    print(f"429s caused by us:    {throttled} (target 0)")
    print(f"profiles / members:   {stats['profiles']:,} / {members:,}")
    print(f"events:               {stats['events_by_metric']}")
    print(f"consent records:      {stats['subscriptions']:,}")
    print(f"outbox states:        {states}")
    print(f"lost:                 {lost} (target 0)")
    print("cpu seconds:          " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    ok = ratio <= 1.15 and throttled == 0 and lost == 0
    print(verdict(ok))
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 3)))
    parser.add_argument("--consent", type=float, default=0.0,
                        help="share of shoppers who gave marketing consent (0..1)")
    parser.add_argument("--first-poll", type=float, default=0.5,
                        help="seconds before the first import-job poll")
    parser.add_argument("--claim", type=int, default=10_000,
                        help="rows per bulk claim (SYNC_BULK_CLAIM)")
    parser.add_argument("--worker-class", default="",
                        help="e.g. rq.worker.SimpleWorker (no fork per job)")
    parser.add_argument("--timeout", type=float, default=900)
    sys.exit(0 if run(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
