"""Throughput of the Klaviyo sandbox on this machine (loopback only, bounded in time).

    .venv/bin/python bench/sandbox_throughput.py [--seconds 5] [--procs 3] [--threads 4]

Starts the sandbox (gunicorn, one process, gthread) with rate limits off, then measures
  small: POST /api/profile-import (one profile) from client processes x threads with keep-alive
  bulk:  POST /api/event-bulk-create-jobs carrying 1,000 events each (fresh unique_ids)
and prints each figure next to its floor (>= 300 small req/s, >= 10 bulk req/s) with PASS/FAIL.
Exit code 1 when a floor is missed. The clients share the 2 cores with the server, so the
figures are a lower bound for the server.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandboxes.klaviyo.admin import SandboxAdmin  # noqa: E402

SMALL_FLOOR = 300.0
BULK_FLOOR = 10.0
HEADERS = {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json",
           "Accept": "application/vnd.api+json"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bulk_body(tag: str, profiles: int = 100, per_profile: int = 10) -> bytes:
    entries = []
    for p in range(profiles):
        events = [{"type": "event", "attributes": {
            "properties": {"sku": f"SKU-{p}", "variant_id": p * 10 + e, "title": "Blue shirt"},
            "metric": {"data": {"type": "metric", "attributes": {"name": "Back in Stock"}}},
            "unique_id": f"bis:{tag}:{p}:{e}", "time": "2026-07-20T10:00:00+00:00"}}
            for e in range(per_profile)]
        entries.append({"type": "event-bulk-create", "attributes": {
            "profile": {"data": {"type": "profile",
                                 "attributes": {"email": f"shopper{p}@bench.test"}}},
            "events": {"data": events}}})
    return json.dumps({"data": {"type": "event-bulk-create-job",
                                "attributes": {"events-bulk-create": {"data": entries}}}}).encode()


def _client(args: tuple[str, str, str, float, int, int]) -> tuple[int, int]:
    """One client process: `threads` threads with their own keep-alive session until deadline."""
    url, key, kind, deadline, threads, proc_index = args
    counts = [0] * threads
    errors = [0] * threads
    headers = {**HEADERS, "Authorization": f"Klaviyo-API-Key {key}"}

    template = bulk_body("__TAG__") if kind == "bulk" else b""  # fresh unique_ids per request

    def run(t: int) -> None:
        session = requests.Session()
        i = 0
        while time.time() < deadline:
            i += 1
            if kind == "small":
                body = json.dumps({"data": {"type": "profile", "attributes": {
                    "email": f"p{proc_index}-{t}-{i % 500}@bench.test", "first_name": "Bench",
                    "properties": {"sku": "SKU-1"}}}}).encode()
                r = session.post(f"{url}/api/profile-import", data=body, headers=headers,
                                 timeout=30)
                ok = r.status_code in (200, 201)
            else:
                body = template.replace(b"__TAG__", f"{proc_index}-{t}-{i}".encode())
                r = session.post(f"{url}/api/event-bulk-create-jobs", data=body,
                                 headers=headers, timeout=30)
                ok = r.status_code == 202
            if time.time() <= deadline:
                counts[t] += 1 if ok else 0
                errors[t] += 0 if ok else 1

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts), sum(errors)


def measure(url: str, key: str, kind: str, seconds: float, procs: int, threads: int
            ) -> tuple[float, int]:
    start = time.time() + 0.5  # let the processes start
    deadline = start + seconds
    with mp.get_context("fork").Pool(procs) as pool:
        results = pool.map(_client, [(url, key, kind, deadline, threads, p)
                                     for p in range(procs)])
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return done / (time.time() - start if time.time() < deadline else seconds), errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--procs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    options = parser.parse_args()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "sandboxes.klaviyo", "--port", str(port),
         "--no-rate-limits", "--threads", "16"], cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        admin = SandboxAdmin(url)
        for _ in range(100):
            try:
                admin.health()
                break
            except requests.RequestException:
                time.sleep(0.1)
        account = admin.create_account("Bench Store")
        key = admin.create_key(account["id"])
        small, small_err = measure(url, key, "small", options.seconds, options.procs,
                                   options.threads)
        bulk, bulk_err = measure(url, key, "bulk", options.seconds, options.procs,
                                 max(1, options.threads // 2))
        stats = admin.stats(account["id"])
    finally:
        server.terminate()
        server.wait(timeout=10)
    rows = [("small requests/s (POST /api/profile-import)", small, SMALL_FLOOR, small_err),
            ("bulk requests/s (1,000 events each)", bulk, BULK_FLOOR, bulk_err)]
    failed = False
    for label, value, floor, errs in rows:
        verdict = "PASS" if value >= floor and not errs else "FAIL"
        failed |= verdict == "FAIL"
        print(f"{label:48s} {value:8.1f}  floor {floor:6.1f}  errors {errs}  {verdict}")
    print(f"sandbox stored {stats['events']} events, {stats['profiles']} profiles, "
          f"{stats['requests']} requests")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
