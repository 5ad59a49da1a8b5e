"""Webhook delivery to `{app_url}/webhooks/shopify`, signed and retried as Shopify does.

Contract:
- The body is serialised once; `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(app secret, those
  exact bytes)). Headers: X-Shopify-Topic, -Shop-Domain, -API-Version (2026-10), -Webhook-Id
  (a uuid per delivery, kept across retries), -Event-Id (one per merchant action), -Triggered-At.
- One background thread delivers in order of sending; a non-2xx answer or a connection error
  is retried after `webhook_retry_delay` x 2**n (scheduled, other deliveries go on meanwhile),
  `webhook_attempts` times in all; then the delivery is logged `failed`. 3xx counts as failure.
- Switches (config.Switches): `duplicates` sends each delivery twice with the same webhook id;
  `drop` records a fraction (seeded, reproducible) as `dropped` without sending; `out_of_order`
  holds deliveries and releases them newest first (on flush / switch-off, or every n).
- `log(shop)`: topic, webhook_id, event_id, state (pending|held|delivered|failed|dropped),
  status (last HTTP status), attempts, duplicate. Never the body or the secret.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import requests

from .schema import API_VERSION

if TYPE_CHECKING:
    from .app import StandinApp

LOG_SIZE = 20_000


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    shop: str
    topic: str
    body: bytes
    webhook_id: str
    event_id: str
    triggered_at: str
    duplicate: bool = False
    attempts: int = 0
    state: str = "pending"
    status: int | None = None
    error: str | None = None
    sent_at: list[float] = field(default_factory=list)

    def entry(self) -> dict[str, Any]:
        return {"topic": self.topic, "webhook_id": self.webhook_id, "event_id": self.event_id,
                "triggered_at": self.triggered_at, "state": self.state, "status": self.status,
                "attempts": self.attempts, "duplicate": self.duplicate, "error": self.error}


class Dispatcher:
    def __init__(self, app: StandinApp) -> None:
        self.app = app
        self.cond = threading.Condition()
        self.queue: list[tuple[float, int, Delivery]] = []  # (due, seq, delivery) heap
        self.seq = itertools.count()
        self.held: list[Delivery] = []
        self.logs: dict[str, list[Delivery]] = {}
        self.in_flight = 0
        self.rng = random.Random(11)
        self.session = requests.Session()
        self.thread_pid = 0  # gunicorn builds the app before forking: start in the worker

    def _ensure_thread(self) -> None:
        if self.thread_pid != os.getpid():
            self.thread_pid = os.getpid()
            threading.Thread(target=self._loop, name="webhooks", daemon=True).start()

    def reset(self) -> None:
        with self.cond:
            self.queue.clear()
            self.held.clear()
            self.logs.clear()
            self.rng = random.Random(11)

    def send(self, shop: str, topic: str, payload: Any, *, event_id: str | None = None) -> str:
        body = orjson.dumps(payload)
        delivery = Delivery(shop=shop, topic=topic, body=body, webhook_id=str(uuid.uuid4()),
                            event_id=event_id or str(uuid.uuid4()),
                            triggered_at=datetime.now(UTC).isoformat(timespec="milliseconds")
                            .replace("+00:00", "Z"))
        switches = self.app.switches
        copies = [delivery]
        if switches.duplicates:
            copies.append(Delivery(**{**delivery.__dict__, "duplicate": True, "sent_at": []}))
        with self.cond:
            for copy in copies:
                log = self.logs.setdefault(shop, [])
                log.append(copy)
                del log[:-LOG_SIZE]
                if switches.drop and self.rng.random() < switches.drop:
                    copy.state = "dropped"
                elif switches.out_of_order:
                    copy.state = "held"
                    self.held.append(copy)
                else:
                    self._enqueue(copy, 0.0)
            if switches.out_of_order >= 2 and len(self.held) >= switches.out_of_order:
                self._release()
        return delivery.webhook_id

    def flush(self) -> int:
        """Release held deliveries, newest first."""
        with self.cond:
            return self._release()

    def _release(self) -> int:
        held, self.held = self.held, []
        for delivery in reversed(held):
            delivery.state = "pending"
            self._enqueue(delivery, 0.0)
        return len(held)

    def _enqueue(self, delivery: Delivery, delay: float) -> None:
        self._ensure_thread()
        heapq.heappush(self.queue, (time.monotonic() + delay, next(self.seq), delivery))
        self.cond.notify_all()

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or in flight (held deliveries excepted)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.queue or self.in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.05))
            return True

    def log(self, shop: str) -> list[dict[str, Any]]:
        with self.cond:
            return [d.entry() for d in self.logs.get(shop, [])]

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not self.queue or self.queue[0][0] > time.monotonic():
                    wait = self.queue[0][0] - time.monotonic() if self.queue else None
                    self.cond.wait(wait)
                _, _, delivery = heapq.heappop(self.queue)
                self.in_flight += 1
            try:
                self._attempt(delivery)
            finally:
                with self.cond:
                    self.in_flight -= 1
                    self.cond.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        config = self.app.config
        headers = {"Content-Type": "application/json", "User-Agent": "Shopify-Captain-Hook",
                   "X-Shopify-Topic": delivery.topic,
                   "X-Shopify-Hmac-Sha256": signature(delivery.body, config.api_secret),
                   "X-Shopify-Shop-Domain": delivery.shop, "X-Shopify-API-Version": API_VERSION,
                   "X-Shopify-Webhook-Id": delivery.webhook_id,
                   "X-Shopify-Event-Id": delivery.event_id,
                   "X-Shopify-Triggered-At": delivery.triggered_at}
        delivery.attempts += 1
        delivery.sent_at.append(time.time())
        try:
            response = self.session.post(f"{config.app_url}/webhooks/shopify",
                                         data=delivery.body, headers=headers,
                                         timeout=(1.0, config.webhook_timeout),
                                         allow_redirects=False)
            delivery.status, delivery.error = response.status_code, None
            ok = 200 <= response.status_code < 300
        except requests.RequestException as exc:
            delivery.status, delivery.error, ok = None, type(exc).__name__, False
        with self.cond:
            if ok:
                delivery.state = "delivered"
            elif delivery.attempts < config.webhook_attempts:
                delivery.state = "pending"
                self._enqueue(delivery,
                              config.webhook_retry_delay * 2 ** (delivery.attempts - 1))
            else:
                delivery.state = "failed"
