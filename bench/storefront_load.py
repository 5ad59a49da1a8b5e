
"""The storefront under load: signed `POST /proxy/subscribe` at concurrency 32 against the ceiling.

    .venv/bin/python bench/storefront_load.py [--signups 5000] [--concurrency 32] [--runs 3]
        [--ceiling-requests 5000] [--fanout 0] [--web-workers N] [--threads N] [--workers 2]

The app runs under gunicorn in its production configuration (`gunicorn.conf.py`, DEBUG off,
PostgreSQL, Redis; `bench/_shopify.AppServer`) with real RQ workers and the sweeper syncing what
arrives to the Klaviyo sandbox. Each run, on the same server:

1. the ceiling: `--ceiling-requests` GET /healthz (a trivial Django view: one `SELECT 1` and
   one Redis PING) at `--concurrency`;
2. `--signups` signed subscribe requests, each a distinct shopper (email, and the client address
   a trusted proxy would append in `X-Forwarded-For`, so the per-address limit sees distinct
   shoppers as it would in production), signed exactly as Shopify's app proxy does
   (`tests`-independent: `notifyme.shops.signing.app_proxy_signature`).

Requests are built and signed before the clock starts, so the signature's timestamp window is
widened for the bench (`SHOPIFY_PROXY_MAX_AGE_SECONDS=900`); nothing else differs from
production. After each run: every 201 is one Subscription row (one per email), and after the
last run the bench waits (bounded) until the sandbox holds one profile per signup.

`--fanout N`: before the runs, a restock of N existing subscribers of another variant starts
on the workers, so the signups compete with a fan-out (issue 13: storefront p99 < 150 ms
while a 100,000-subscriber fan-out runs).

Targets (issue 13): subscribe throughput >= 0.5 x the ceiling's, p99 < 100 ms (< 150 ms with
a fan-out), 0 errors, every signup stored once and synced. Database notifyme_bench_storefront,
Redis db 11; exit 1 on FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as c
from bench import _shopify as s
from bench._load import percentile, send

P99_TARGET_MS = 100.0
P99_TARGET_FANOUT_MS = 150.0
THROUGHPUT_RATIO_TARGET = 0.5


def signed_path(domain: str, secret: str) -> str:
    from notifyme.shops.signing import app_proxy_signature

    params = {"shop": [domain], "path_prefix": ["/apps/notifyme"],
              "timestamp": [str(int(time.time()))], "logged_in_customer_id": [""]}
    flat = [(k, v) for k, values in params.items() for v in values]
    signature = app_proxy_signature(params, secret)
    return "/proxy/subscribe?" + urlencode([*flat, ("signature", signature)])


def signups(domain: str, secret: str, variant_id: int, count: int, run: int) -> list[dict]:
    path = signed_path(domain, secret)
    out = []
    for i in range(count):
        body = json.dumps({"variant_id": variant_id, "email": f"r{run}-s{i}@shoppers.example.com",
                           "marketing_consent": i % 2 == 0,
                           "consent_text_version": "v1" if i % 2 == 0 else "",
                           "first_name": "Ada"})
        address = f"10.{run}.{i // 250}.{i % 250 + 1}"
        out.append({"method": "POST", "path": path, "body": body,
                    "headers": {"Content-Type": "application/json", "X-Forwarded-For": address}})
    return out


def ceiling_requests(count: int) -> list[dict]:
    return [{"method": "GET", "path": "/healthz", "body": "", "headers": {}}] * count


def figures(result: dict[str, Any], ok_status: str) -> dict[str, float]:
    lat = result["latencies_ms"]
    errors = sum(n for code, n in result["statuses"].items() if code != ok_status)
    return {"rps": len(lat) / result["elapsed"], "p50": percentile(lat, 50),
            "p95": percentile(lat, 95), "p99": percentile(lat, 99), "max": max(lat),
            "errors": errors}


def line(name: str, f: dict[str, float], result: dict[str, Any]) -> str:
    return (f"{name}: {f['rps']:,.0f} req/s, p50 {f['p50']:.1f} / p95 {f['p95']:.1f} / p99 "
            f"{f['p99']:.1f} / max {f['max']:.1f} ms, errors {f['errors']:.0f} "
            f"{result['statuses']} {result['errors'][:2]}")


def start_fanout(shop: Any, variant: Any, count: int) -> Any:
    from notifyme.catalog.services import variant_update_stock
    from notifyme.restocks.services import detection_of

    took = c.bulk_subscribers(shop, variant, count, prefix="f")
    restock = detection_of(variant_update_stock(variant=variant, quantity=count)).restock
    print(f"fan-out: {count:,} subscribers inserted in {took:.1f} s; restock "
          f"{restock.pk if restock else None} started on the workers", flush=True)
    return restock


def one_run(k: int, server: s.AppServer, shop: Any, variant: Any,
            args: argparse.Namespace) -> tuple[bool, dict, dict]:
    from django.conf import settings

    from notifyme.subscriptions.models import Subscription

    ceiling_result = send(server.port, ceiling_requests(args.ceiling_requests),
                          args.concurrency, args.timeout)
    ceiling = figures(ceiling_result, "200")
    requests = signups(shop.domain, settings.SHOPIFY_API_SECRET, variant.shopify_id,
                       args.signups, k)
    result = send(server.port, requests, args.concurrency, args.timeout)
    subscribe = figures(result, "201")
    rows = Subscription.objects.filter(shop=shop, variant=variant,
                                       email__startswith=f"r{k}-")
    stored, distinct = rows.count(), rows.values("email").distinct().count()
    ratio = subscribe["rps"] / ceiling["rps"]
    print(f"run {k}:\n  {line('ceiling GET /healthz', ceiling, ceiling_result)}\n  "
          f"{line('POST /proxy/subscribe', subscribe, result)}\n  throughput ratio "
          f"{ratio:.2f} (target >= {THROUGHPUT_RATIO_TARGET}); stored {stored:,} rows, "
          f"{distinct:,} distinct shoppers of {args.signups:,}", flush=True)
    target = P99_TARGET_FANOUT_MS if args.fanout else P99_TARGET_MS
    ok = (subscribe["p99"] < target and subscribe["errors"] == 0 and ratio >=
          THROUGHPUT_RATIO_TARGET and stored == distinct == args.signups)
    return ok, ceiling, {**subscribe, "ratio": ratio}


def synced(shop: Any, account_id: str, sandbox: c.Sandbox, expected: int,
           timeout: float, *, fanout: int) -> bool:
    """One sandbox profile per signup (the fan-out's subscribers, already synced, reach the
    sandbox only through their events, which create profiles of their own)."""
    def profiles() -> int:
        found = sandbox.admin.profiles(account_id)
        return sum(1 for p in found if "@shoppers.example.com" in str(p.get("email", "")))

    started = time.monotonic()
    done = c.wait_until(lambda: profiles() >= expected, timeout=timeout, interval=2.0)
    print(f"sandbox: {profiles():,} profiles of {expected:,} signups, "
          f"{time.monotonic() - started:.0f} s after the last run -> {c.verdict(done)}")
    return done and profiles() == expected


def summary(name: str, runs: list[dict]) -> None:
    print(f"{name}, over {len(runs)} runs (min / median / max):")
    for key in ("rps", "p50", "p95", "p99", "max", "errors", "ratio"):
        if key not in runs[0]:
            continue
        values = [r[key] for r in runs]
        print(f"  {key:>6}: {min(values):,.2f} / {statistics.median(values):,.2f} / "
              f"{max(values):,.2f}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signups", type=int, default=5_000)
    parser.add_argument("--ceiling-requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fanout", type=int, default=0,
                        help="subscribers of a restock fanned out while the signups run")
    parser.add_argument("--web-workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    c.add_worker_arguments(parser, workers=2)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--sync-timeout", type=float, default=300)
    args = parser.parse_args()
    c.setup_env("notifyme_bench_storefront", 11,
                extra={"SHOPIFY_PROXY_MAX_AGE_SECONDS": "900", **c.NO_LIMITS})
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{args.workers} RQ workers + sweeper; fan-out {args.fanout:,}")
    sandbox = c.Sandbox.start(limits=False)
    shop, variant, account_id = c.make_shop_connected(sandbox, domain="viral.myshopify.com",
                                                      name="Viral Store")
    server = s.AppServer.start(workers=args.web_workers, threads=args.threads)
    pool = c.Workers.start(args.workers, worker_class=args.worker_class,
                           queues=("sync", "bulk", "default"), options=("--with-scheduler",))
    try:
        if not pool.wait_registered(timeout=60):
            raise RuntimeError("RQ workers did not register within 60 s")
        if args.fanout:
            from notifyme.catalog.models import Variant

            other = Variant.objects.create(shop=shop, product=variant.product,
                                           shopify_id=4002, title="Small", sku="SKU-4002",
                                           price="49.00", available_quantity=0)
            start_fanout(shop, other, args.fanout)
        results = [one_run(k, server, shop, variant, args) for k in range(1, args.runs + 1)]
        summary("ceiling GET /healthz", [r[1] for r in results])
        summary("POST /proxy/subscribe", [r[2] for r in results])
        done = synced(shop, account_id, sandbox, args.runs * args.signups, args.sync_timeout,
                      fanout=args.fanout)
    finally:
        pool.stop()
        server.stop()
        sandbox.stop()
    ok = done and all(passed for passed, _, _ in results)
    target = P99_TARGET_FANOUT_MS if args.fanout else P99_TARGET_MS
    print(f"targets: throughput >= {THROUGHPUT_RATIO_TARGET} x ceiling, p99 < {target:.0f} ms, "
          f"0 errors, stored once, synced -> storefront_load: {c.verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
