"""A worker's peak memory during a 1,000,000-subscriber fan-out (sandbox limits OFF).

    .venv/bin/python bench/memory.py [--sizes 100000,1000000] [--workers 4]

For each size: a fresh variant with that many subscribers, a restock, fresh RQ workers (so each
size has its own peak), and the fan-out until the sandbox holds every event. The peak resident
set of every worker process is its VmHWM from /proc (the kernel's high-water mark), read at
the end — plus, for forking workers, the largest VmRSS seen in any work-horse while polling
every 0.1 s. Also reported: the peak of this process across `restock_start` (the INSERT …
SELECT that writes the first chunk of deliveries must not pull subscribers into Python; the
materialiser in the workers writes the rest). PASS: every worker
peak < 256 MB at the largest size, and the peak does not grow with the subscriber count
(largest <= smallest + 10 %). Database notifyme_bench_memory, Redis db 11; loopback only.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as c

LIMIT_MB = 256.0
GROWTH = 1.10


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += c.children(current)
    return found


def run_size(sandbox: c.Sandbox, shop, product, account_id: str, size: int, index: int,
             workers: int, worker_class: str, timeout: float) -> tuple[float, float]:
    from notifyme.catalog.models import Variant
    from notifyme.catalog.services import variant_update_stock
    from notifyme.restocks.models import Restock
    from notifyme.restocks.services import detection_of

    variant = Variant.objects.create(shop=shop, product=product, shopify_id=7000 + index,
                                     title=f"Size {size}", sku=f"MEM-{size}", price="10.00",
                                     available_quantity=0)
    took = c.bulk_subscribers(shop, variant, size, prefix=f"m{index}-")
    before = sandbox.admin.stats(account_id)["events"]
    pool = c.Workers.start(workers, worker_class=worker_class)
    horse_peak = {"kb": 0}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for pid in pool.worker_pids:
                for child in _tree(pid)[1:]:
                    horse_peak["kb"] = max(horse_peak["kb"], c.proc_status(child, "VmRSS"))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        hwm_before = c.proc_status(c.os.getpid(), "VmHWM")
        t0 = time.monotonic()
        restock = detection_of(variant_update_stock(variant=variant, quantity=100)).restock
        t1 = time.monotonic()
        self_hwm = c.proc_status(c.os.getpid(), "VmHWM")
        assert restock is not None  # its first chunk of rows; the workers write the rest
        done = c.wait_until(
            lambda: sandbox.admin.stats(account_id)["events"] - before >= size,
            timeout=timeout, interval=0.5)
        t2 = time.monotonic()
        peaks = {pid: c.proc_status(pid, "VmHWM") for pid in pool.worker_pids}
    finally:
        stop.set()
        watcher.join(timeout=2)
        pool.stop()
    restock = Restock.objects.get(pk=restock.pk)
    assert restock.total == size, f"total {restock.total} != {size}"
    worker_mb = max(peaks.values()) / 1024
    horse_mb = horse_peak["kb"] / 1024
    print(f"{size:>9,} subscribers (inserted in {took:.1f} s): restock_start {t1 - t0:.1f} s "
          f"(this process' peak {hwm_before / 1024:.0f} -> {self_hwm / 1024:.0f} MB); fan-out "
          f"{t2 - t1:.1f} s = {size / (t2 - t1):,.0f} events/s, sent {restock.sent:,}, "
          f"{'all events accepted' if done else 'TIMED OUT'}")
    print(f"           worker peak RSS (VmHWM) per worker: "
          f"{', '.join(f'{kb / 1024:.0f} MB' for kb in peaks.values())}"
          + (f"; work-horse peak {horse_mb:.0f} MB" if horse_mb else ""))
    return max(worker_mb, horse_mb), (t2 - t1) if done else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    c.add_worker_arguments(parser, workers=4)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    c.setup_env("notifyme_bench_memory", 11, extra=c.NO_LIMITS)
    sandbox = c.Sandbox.start(limits=False)
    try:
        shop, variant, account_id = c.make_shop_connected(
            sandbox, domain="memory-bench.myshopify.com", name="Memory Bench")
        peaks = []
        for index, size in enumerate(sizes):
            peak, elapsed = run_size(sandbox, shop, variant.product, account_id, size, index,
                                     args.workers, args.worker_class, args.timeout)
            peaks.append((size, peak, elapsed))
        largest, smallest = peaks[-1], peaks[0]
        under = largest[1] < LIMIT_MB
        flat = largest[1] <= smallest[1] * GROWTH
        finished = all(e != float("inf") for _, _, e in peaks)
        print(f"peak at {largest[0]:,}: {largest[1]:.0f} MB (limit {LIMIT_MB:.0f} MB) -> "
              f"{c.verdict(under)}; at {smallest[0]:,}: {smallest[1]:.0f} MB, growth "
              f"{largest[1] / smallest[1]:.2f}x (max {GROWTH}x) -> {c.verdict(flat)}")
        ok = under and flat and finished
        print(f"memory: {c.verdict(ok)}")
        return 0 if ok else 1
    finally:
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
