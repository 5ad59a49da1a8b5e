"""The load process of the benchmarks: prepared requests, N threads, per-request latency.

    python -m bench._load --port P --concurrency 32 --input requests.jsonl --output result.json

Runs as its own process (so the client's CPU and GIL are not the bench's or the server's).
Each line of the input is {"body": "<text>", "headers": {...}} and optionally "method" and
"path" (default POST /webhooks/shopify), built and signed by the bench before the clock
starts. Every thread keeps one `http.client` connection (keep-alive; it reconnects when the
server closes it) and takes the next request from a shared counter. Latency is measured in
the client, from just before the request is written to the end of the response body. Every
request has a timeout; a connection error counts as status 0. The output: {"elapsed",
"latencies_ms" (in send order), "statuses" {code: count}, "errors" [first few messages]}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

Request = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers


def run(port: int, requests: list[Request], concurrency: int,
        timeout: float) -> dict[str, object]:
    latencies = [0.0] * len(requests)
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    counter = itertools.count()
    lock = threading.Lock()

    def worker() -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
        local: Counter[int] = Counter()
        while True:
            i = next(counter)
            if i >= len(requests):
                break
            method, path, body, headers = requests[i]
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, HTTPException) as error:
                status = 0
                conn.close()
                with lock:
                    if len(errors) < 5:
                        errors.append(f"{type(error).__name__}: {error}")
            latencies[i] = (time.perf_counter() - started) * 1000
            local[status] += 1
        conn.close()
        with lock:
            statuses.update(local)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout * len(requests))
    elapsed = time.perf_counter() - started
    return {"elapsed": elapsed, "latencies_ms": latencies,
            "statuses": {str(k): v for k, v in statuses.items()}, "errors": errors}


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-th percentile of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def send(port: int, requests: list[dict[str, Any]], concurrency: int,
         timeout: float) -> dict[str, Any]:
    """Run this module as its own load process over `requests` (input lines as described
    above); its result."""
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.jsonl", Path(folder) / "out.json"
        with open(source, "w") as fh:
            for item in requests:
                fh.write(json.dumps(item) + "\n")
        subprocess.run([sys.executable, "-m", "bench._load", "--port", str(port),  # noqa: S603
                        "--concurrency", str(concurrency), "--input", str(source),
                        "--output", str(target)],
                       cwd=Path(__file__).resolve().parents[1], check=True, timeout=timeout)
        return dict(json.loads(target.read_text()))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    with open(args.input) as fh:
        requests = [(item.get("method", "POST"), item.get("path", "/webhooks/shopify"),
                     item["body"].encode(), item["headers"]) for item in map(json.loads, fh)]
    result = run(args.port, requests, args.concurrency, args.timeout)
    with open(args.output, "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
