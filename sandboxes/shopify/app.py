"""The stand-in's WSGI application: Shopify's per-shop routes plus the `/_shopify/` control API.

Routes (the path carries the shop, so `SHOPIFY_ADMIN_URL = http://127.0.0.1:N/{shop}`):
  POST /{shop}/admin/oauth/access_token            oauth.py
  GET  /{shop}/admin/oauth/authorize               oauth.py
  POST /{shop}/admin/api/2026-10/graphql.json      gql.py
  /_shopify/...                                    control.py (JSON) and page.py (HTML)
With the `down` switch on, every Shopify route answers 503 (outage tests); the control API
keeps working. A stand-in bug answers 500 and prints its traceback to stderr. Plain WSGI, no
Django: served by gunicorn, one process with threads (server.py).
"""

from __future__ import annotations

import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from graphql import GraphQLSchema

from . import oauth
from .bulk import BulkRunner
from .config import Config, Switches
from .control import Control
from .cost import Bucket
from .delivery import Dispatcher
from .gql import graphql_endpoint
from .schema import API_VERSION, load_schema
from .state import World
from .tokens import CodeBook, TokenBook
from .web import HttpError, Request, Response

_SHOP_ROUTE = re.compile(r"^/(?P<shop>[a-z0-9][a-z0-9-]*\.myshopify\.com)/admin/(?P<rest>.+)$")
GRAPHQL_PATH = f"api/{API_VERSION}/graphql.json"


class StandinApp:
    """WSGI callable holding all state."""

    def __init__(self, config: Config | None = None, schema: GraphQLSchema | None = None
                 ) -> None:
        self.config = config or Config()
        self.switches = Switches()
        self.schema = schema or load_schema()
        self.world = World()
        self.tokens = TokenBook()
        self.codes = CodeBook()
        self.bulk = BulkRunner(self)
        self.webhooks = Dispatcher(self)
        self.buckets: dict[str, Bucket] = {}
        self.buckets_lock = threading.Lock()
        self.stats: dict[str, dict[str, int]] = {}
        self.control = Control(self)

    def reset(self) -> None:
        """Forget every shop, token, bulk operation and webhook; switches off; config kept
        except what `Control.reset` restores."""
        self.world.reset()
        self.tokens.reset()
        self.codes = CodeBook()
        self.bulk.reset()
        self.webhooks.reset()
        self.switches = Switches()
        with self.buckets_lock:
            self.buckets.clear()
            self.stats.clear()

    def count(self, shop: str, **amounts: int) -> None:
        """Add to the shop's GraphQL counters (requests, throttled, cost points)."""
        with self.buckets_lock:
            stats = self.stats.setdefault(shop, {})
            for name, amount in amounts.items():
                stats[name] = stats.get(name, 0) + amount

    def stats_for(self, shop: str) -> dict[str, int]:
        with self.buckets_lock:
            return dict(self.stats.get(shop, {}))

    def bucket(self, shop: str) -> Bucket:
        with self.buckets_lock:
            found = self.buckets.get(shop)
            if found is None:
                found = self.buckets[shop] = Bucket(self.config.bucket_max,
                                                    self.config.restore_rate)
            return found

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        req = Request.from_environ(environ)
        try:
            response = self._route(req)
        except HttpError as exc:
            response = Response(exc.status, exc.body)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = Response(500, {"errors": "Internal Server Error"})
        body = response.encode()
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(body))),
                   *response.headers.items()]
        start_response(response.status_line, headers)
        return [body] if req.method != "HEAD" else []

    def _route(self, req: Request) -> Response:
        if req.path == "/_shopify" or req.path.startswith("/_shopify/"):
            return self.control.handle(req)
        match = _SHOP_ROUTE.match(req.path)
        if match is None:
            return Response(404, {"errors": "Not Found"})
        if self.switches.down:
            return Response(503, {"errors": "Service Unavailable"}, {"Retry-After": "1"})
        shop, rest = match["shop"], match["rest"]
        routes: dict[tuple[str, str], Callable[[StandinApp, str, Request], Response]] = {
            ("POST", "oauth/access_token"): oauth.access_token,
            ("GET", "oauth/authorize"): oauth.authorize,
            ("POST", GRAPHQL_PATH): graphql_endpoint,
        }
        handler = routes.get((req.method, rest))
        if handler is None:
            known = any(path == rest for _, path in routes)
            return Response(405 if known else 404,
                            {"errors": "Method Not Allowed" if known else "Not Found"})
        return handler(self, shop, req)
