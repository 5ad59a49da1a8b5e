
"""A burst of 10,000 signed `inventory_levels/update` webhooks at concurrency 32.

    .venv/bin/python bench/webhook_burst.py [--deliveries 10000] [--concurrency 32] [--runs 3]
        [--web-workers N] [--threads N] [--workers 2] [--variants 1000] [--resend 1000]

The app runs under gunicorn in its production configuration (`gunicorn.conf.py`, DEBUG off,
generated secrets, PostgreSQL, Redis; `bench/_shopify.AppServer`), with real RQ workers
(`rqworker sync bulk default --with-scheduler`) and the sweeper processing what arrives. Each
run installs a fresh shop with a mirrored catalog (`--variants` variants with inventory item ids
at one location) and signs `--deliveries` deliveries exactly as Shopify does (distinct
X-Shopify-Webhook-Id; each variant gets successive levels 1, 2, … with increasing
`updated_at`). A separate load process (`bench/_load.py`, one keep-alive http.client
connection per thread) sends them at `--concurrency` and measures each request's latency.
After each burst: the shop's WebhookEvent rows must be exactly `--deliveries`, one per webhook
id; then `--resend` of the same deliveries (same ids, bodies, signatures) are sent again: all
200, still the same number of rows. The runs follow one another while the workers process
what arrived; after the last, the bench waits (at most `--drain-timeout`) until every stored
delivery of every run is `processed` and every variant holds the last level sent.

Target (issue 11): p99 < 100 ms, 0 non-200, 0 lost, rows stored once. Figures per run, then
min/median/max over the runs. Database notifyme_bench, Redis db 12; exit 1 on FAIL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as c
from bench import _load
from bench import _shopify as s
from bench._load import percentile

P99_TARGET_MS = 100.0


def build(domain: str, secret: str, deliveries: int, variants: int) -> list[tuple[bytes, dict]]:
    out = []
    for i in range(deliveries):
        level = i // variants + 1
        out.append(s.level_delivery(secret=secret, domain=domain,
                                    inventory_item_id=s.ITEM_BASE + i % variants,
                                    available=level, updated_at=s.T0 + timedelta(seconds=level)))
    return out


def send(port: int, requests: list[tuple[bytes, dict]], concurrency: int,
         timeout: float) -> dict[str, Any]:
    """Run the load process over `requests`; its result (see bench/_load.py)."""
    return _load.send(port, [{"body": body.decode(), "headers": headers}
                             for body, headers in requests], concurrency, timeout)


def figures(result: dict[str, Any]) -> dict[str, float]:
    lat = result["latencies_ms"]
    non200 = sum(n for code, n in result["statuses"].items() if code != "200")
    return {"rps": len(lat) / result["elapsed"], "p50": percentile(lat, 50),
            "p95": percentile(lat, 95), "p99": percentile(lat, 99), "max": max(lat),
            "non200": non200}


def counts(domain: str) -> dict[str, int]:
    from django.db.models import Count

    from notifyme.webhooks.models import WebhookEvent

    rows = WebhookEvent.objects.filter(shop_domain=domain)
    found = dict(rows.values_list("state").annotate(n=Count("id")).order_by())
    found["rows"] = rows.count()
    found["ids"] = rows.values("webhook_id").distinct().count()
    return found


def one_run(k: int, server: s.AppServer, args: argparse.Namespace) -> tuple[bool, dict]:
    """One burst on a fresh shop + the resend; processing is checked after all runs."""
    from django.conf import settings

    domain = f"burst-{k}.myshopify.com"
    s.catalog_shop(domain=domain, variants=args.variants)
    requests = build(domain, settings.SHOPIFY_API_SECRET, args.deliveries, args.variants)
    result = send(server.port, requests, args.concurrency, timeout=args.timeout)
    intake = figures(result)
    after = counts(domain)
    resent = figures(send(server.port, requests[:args.resend], args.concurrency,
                          timeout=args.timeout))
    again = counts(domain)
    print(f"run {k}: {args.deliveries:,} deliveries at concurrency {args.concurrency}: "
          f"{intake['rps']:,.0f} req/s, latency p50 {intake['p50']:.1f} / p95 "
          f"{intake['p95']:.1f} / p99 {intake['p99']:.1f} / max {intake['max']:.1f} ms, "
          f"non-200 {intake['non200']:.0f} {result['statuses']} {result['errors'][:2]}")
    print(f"  stored: {after['rows']:,} rows, {after['ids']:,} webhook ids; resent "
          f"{args.resend:,} of the same deliveries: non-200 {resent['non200']:.0f}, p99 "
          f"{resent['p99']:.1f} ms; rows now {again['rows']:,}", flush=True)
    ok = (intake["p99"] < P99_TARGET_MS and intake["non200"] == 0 and resent["non200"] == 0
          and after["rows"] == after["ids"] == again["rows"] == args.deliveries)
    return ok, intake


def processed(runs: int, args: argparse.Namespace, started: float) -> bool:
    """Wait (bounded) for the workers to process every stored delivery of every run."""
    from notifyme.catalog.models import Variant

    domains = [f"burst-{k}.myshopify.com" for k in range(1, runs + 1)]
    drained = c.wait_until(lambda: all(counts(d).get("pending", 0) == 0 for d in domains),
                           timeout=args.drain_timeout, interval=1.0)
    took = time.monotonic() - started
    ok = drained
    for domain in domains:
        found = counts(domain)
        wrong = Variant.objects.filter(shop__domain=domain).exclude(
            available_quantity=args.deliveries // args.variants).count()
        print(f"{domain}: processed {found.get('processed', 0):,}, failed "
              f"{found.get('failed', 0)}, ignored {found.get('ignored', 0)}, pending "
              f"{found.get('pending', 0)}; variants not at their last level: {wrong}")
        ok = ok and found.get("processed", 0) == args.deliveries and wrong == 0
    total = runs * args.deliveries
    print(f"workers: {'all' if drained else 'NOT all'} {total:,} deliveries processed "
          f"{took:.0f} s after the first burst began ({total / took:,.0f} events/s overall; "
          f"drain timeout {args.drain_timeout:.0f} s) -> {c.verdict(ok)}")
    return ok


def summary(runs: list[dict]) -> None:
    print(f"over {len(runs)} runs (min / median / max):")
    for name, unit in (("rps", " req/s"), ("p50", " ms"), ("p95", " ms"), ("p99", " ms"),
                       ("max", " ms"), ("non200", "")):
        values = [r[name] for r in runs]
        print(f"  {name:>6}: {min(values):,.1f} / {statistics.median(values):,.1f} / "
              f"{max(values):,.1f}{unit}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--variants", type=int, default=1_000)
    parser.add_argument("--resend", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=None,
                        help="gunicorn --workers (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="gunicorn --threads (default: gunicorn.conf.py's)")
    c.add_worker_arguments(parser, workers=2)
    parser.add_argument("--timeout", type=float, default=600, help="per burst")
    parser.add_argument("--drain-timeout", type=float, default=600)
    args = parser.parse_args()
    if args.deliveries % args.variants or not 0 < args.resend <= args.deliveries:
        parser.error("--deliveries must be a multiple of --variants, "
                     "and 0 < --resend <= --deliveries")
    c.setup_env("notifyme_bench", 12)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; gunicorn "
          f"--workers {args.web_workers or 'per gunicorn.conf.py'} --threads "
          f"{args.threads or 'per gunicorn.conf.py'}; {args.workers} RQ workers + sweeper")
    server = s.AppServer.start(workers=args.web_workers, threads=args.threads)
    pool = c.Workers.start(args.workers, worker_class=args.worker_class,
                           queues=("sync", "bulk", "default"), options=("--with-scheduler",))
    try:
        if not pool.wait_registered(timeout=60):
            raise RuntimeError("RQ workers did not register within 60 s")
        started = time.monotonic()
        results = [one_run(k, server, args) for k in range(1, args.runs + 1)]
        summary([r for _, r in results])
        done = processed(args.runs, args, started)
    finally:
        pool.stop()
        server.stop()
    ok = done and all(passed for passed, _ in results)
    print(f"target p99 < {P99_TARGET_MS:.0f} ms, 0 non-200, every delivery stored once and "
          f"processed -> webhook_burst: {c.verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
