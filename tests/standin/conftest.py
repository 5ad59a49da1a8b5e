"""Helpers for the stand-in's own tests: a shop with stock, and a real HTTP webhook sink."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.fixtures.shopify_standin import StandinHandle

SHOP = "test-shop.myshopify.com"


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Sink:
    """Records every POST; answers `statuses.pop(0)` while any are queued, else 200."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def topics(self) -> list[str]:
        with self.lock:
            return [r.headers["x-shopify-topic"] for r in self.received]


@pytest.fixture
def sink(shopify_standin: StandinHandle) -> Iterator[Sink]:
    """A webhook receiver on a free port; the stand-in's app_url points at it."""
    state: dict[str, Sink] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            target = state["sink"]
            with target.lock:
                target.received.append(Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = target.statuses.pop(0) if target.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    state["sink"] = Sink(url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shopify_standin.admin.config(app_url=url)
    try:
        yield state["sink"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def shop(shopify_standin: StandinHandle) -> str:
    """A shop with one location and one two-variant product (Medium at 0)."""
    shopify_standin.new_shop(SHOP)
    shopify_standin.admin.add_product(SHOP, "Field Jacket", notify=False, variants=[
        {"title": "Small", "sku": "FJ-S", "price": "120.00", "stock": 4},
        {"title": "Medium", "sku": "FJ-M", "price": "120.00", "stock": 0},
    ])
    return SHOP
