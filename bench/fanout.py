"""A 100,000-subscriber restock against the sandbox with Klaviyo's published limits ON.

    .venv/bin/python bench/fanout.py [--subscribers 100000] [--workers 6] [--naive 10000]

Ours: real RQ workers + the sync sweeper fan the restock out in bulk requests of 1,000 events
through the shared limiter. Measured from the restock's commit to the moment the sandbox holds
every event (detection + the first chunk of deliveries is reported separately).
Ceiling: the time Klaviyo's limits themselves allow for that many bulk requests (burst 10/s,
steady 150/min for Bulk Create Events: n <= 150 requests need n / 10 s, more need n / 150 min).
PASS needs: time <= 1.15 x ceiling, zero 429s caused by our traffic (sandbox stats), every
event accepted, zero duplicate unique_ids.

Naive, same run, separate account: what a typical integration does — one POST /api/events
per subscriber from 4 threads, sleeping Retry-After (else 1 s) on 429 — on `--naive`
subscribers; the speed-up is events/s ours vs naive. Database notifyme_bench_fanout, Redis db
12, loopback only, bounded (exit 1 on FAIL).
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as c
from bench._cpu import CpuMeter

BURST, STEADY = 10, 150  # Bulk Create Events, revision 2026-07-15 (x-klaviyo-ratelimit)
CHUNK = 1000
MAX_RATIO = 1.15


def ceiling_seconds(events: int) -> float:
    requests_needed = math.ceil(events / CHUNK)
    if requests_needed <= STEADY:
        return requests_needed / BURST
    return requests_needed / STEADY * 60


def ours(sandbox: c.Sandbox, subscribers: int, workers: int, worker_class: str,
         timeout: float) -> tuple[bool, float]:
    from notifyme.catalog.services import variant_update_stock
    from notifyme.restocks.models import Restock
    from notifyme.restocks.services import detection_of

    shop, variant, account_id = c.make_shop_connected(
        sandbox, domain="fanout-bench.myshopify.com", name="Fanout Bench")
    took = c.bulk_subscribers(shop, variant, subscribers)
    print(f"inserted {subscribers:,} subscriptions in {took:.1f} s")
    pool = c.Workers.start(workers, worker_class=worker_class)
    meter = CpuMeter(pool, sandbox).start()
    try:
        t0 = time.monotonic()
        restock = detection_of(variant_update_stock(variant=variant, quantity=40)).restock
        t1 = time.monotonic()
        assert restock is not None  # its first chunk of rows; the workers write the rest
        done = c.wait_until(lambda: sandbox.admin.stats(account_id)["events"] >= subscribers,
                            timeout=timeout, interval=0.05)
        t2 = time.monotonic()
        cpu = meter.report(subscribers)
        c.wait_until(lambda: Restock.objects.get(pk=restock.pk).state == "completed",
                     timeout=30)
    finally:
        pool.stop()
    stats = sandbox.admin.stats(account_id)
    restock = Restock.objects.get(pk=restock.pk)
    events = sandbox.admin.events(account_id, metric="Back in Stock")
    per_id = Counter(e["unique_id"] for e in events)
    elapsed, ceiling = t2 - t1, ceiling_seconds(subscribers)
    ratio = elapsed / ceiling
    bulk_requests = sum(1 for r in sandbox.admin.requests(account_id)
                        if r["path"] == "/api/event-bulk-create-jobs")
    print(f"restock #{restock.pk}: detected + first chunk of deliveries inserted in "
          f"{t1 - t0:.2f} s; {restock.total:,} deliveries in all")
    print(f"ours: {len(per_id):,} events accepted in {elapsed:.2f} s "
          f"({subscribers / elapsed:,.0f} events/s, {bulk_requests} bulk requests, "
          f"{workers} workers)")
    print(f"ceiling from the limits: {math.ceil(subscribers / CHUNK)} requests of {CHUNK:,} at "
          f"{BURST}/s burst and {STEADY}/min steady = {ceiling:.2f} s; ratio {ratio:.3f} "
          f"(max {MAX_RATIO}) -> {c.verdict(ratio <= MAX_RATIO)}")
    print(cpu)
    print(f"429s from our traffic: {stats['throttled']} -> {c.verdict(stats['throttled'] == 0)}")
    lost = subscribers - len(per_id)
    dupes = sum(1 for n in per_id.values() if n > 1)
    print(f"lost: {lost}, duplicate unique_ids: {dupes}, resends dropped by Klaviyo's dedup: "
          f"{stats['duplicates_dropped']}, restock state {restock.state}, sent {restock.sent:,} "
          f"-> {c.verdict(lost == 0 and dupes == 0 and restock.sent == subscribers)}")
    ok = (done and ratio <= MAX_RATIO and stats["throttled"] == 0 and lost == 0 and dupes == 0
          and restock.sent == restock.total == subscribers)
    return ok, subscribers / elapsed


def naive(sandbox: c.Sandbox, count: int, threads: int = 4) -> float:
    """One POST /api/events per subscriber, retry on 429 after Retry-After (else 1 s)."""
    from integrations.klaviyo.client import KlaviyoClient
    from integrations.klaviyo.errors import KlaviyoError, KlaviyoRateLimitedError

    account = sandbox.admin.create_account("Naive Bench")
    key = sandbox.admin.create_key(account["id"], "all")
    properties = {"product_title": "Linen Shirt", "variant_title": "Large", "price": "49.00"}
    todo = list(range(count))
    lock = threading.Lock()
    counters = {"429": 0, "errors": 0}

    def run() -> None:
        client = KlaviyoClient(key, base_url=sandbox.url)
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            while True:
                try:
                    client.create_event(metric="Back in Stock",
                                        profile={"email": f"naive{i}@bench.example.com"},
                                        properties=properties, unique_id=f"naive:{i}")
                    break
                except KlaviyoRateLimitedError as error:
                    with lock:
                        counters["429"] += 1
                    time.sleep(error.retry_after or 1.0)
                except KlaviyoError:
                    with lock:
                        counters["errors"] += 1
                    time.sleep(1.0)

    started = time.monotonic()
    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - started
    stored = sandbox.admin.stats(account["id"])["events"]
    print(f"naive: {stored:,} events via POST /api/events from {threads} threads in "
          f"{elapsed:.1f} s ({count / elapsed:,.0f} events/s; {counters['429']} 429s retried)")
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    c.add_worker_arguments(parser, workers=6)
    parser.add_argument("--naive", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    c.setup_env("notifyme_bench_fanout", 12)
    sandbox = c.Sandbox.start(limits=True)
    try:
        ok, our_rate = ours(sandbox, args.subscribers, args.workers, args.worker_class,
                            args.timeout)
        if args.naive:
            naive_rate = naive(sandbox, args.naive)
            print(f"speed-up: {our_rate / naive_rate:,.0f}x ({our_rate:,.0f} vs "
                  f"{naive_rate:,.0f} events/s)")
        print(f"fanout: {c.verdict(ok)}")
        return 0 if ok else 1
    finally:
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
