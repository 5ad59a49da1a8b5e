"""Serving the stand-in: gunicorn, one process (state is in memory), gthread workers.

`serve(options)` blocks. Options are shared by `python -m sandboxes.shopify` and
`manage.py shopify_standin`:
  --port N  --host H  --threads N  --app-url URL (webhooks go to URL/webhooks/shopify)
  --api-key K  --api-secret S   (default: $SHOPIFY_API_KEY / $SHOPIFY_API_SECRET, else the
                                 stand-in's own; prefer the environment: argv is visible in ps)
  --scopes LIST  --demo  --access-ttl S  --refresh-ttl S  --bucket-max N  --restore-rate N
  --max-query-cost N  --webhook-attempts N  --webhook-retry-delay S  --access-log
The secret and every issued token are never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from notifyme.core.gc_tuning import relax_gc

from .app import StandinApp
from .cli import order_main, stock_main
from .config import DEFAULT_SCOPES, Config
from .demo import DEMO_SHOP_DOMAIN, demo_seed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--app-url", default="http://127.0.0.1:8000")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--api-secret", default=None)
    parser.add_argument("--scopes", default=DEFAULT_SCOPES)
    parser.add_argument("--demo", action="store_true", help=f"seed {DEMO_SHOP_DOMAIN}")
    parser.add_argument("--access-ttl", type=int, default=3600)
    parser.add_argument("--refresh-ttl", type=int, default=90 * 86400)
    parser.add_argument("--bucket-max", type=float, default=2000.0)
    parser.add_argument("--restore-rate", type=float, default=100.0)
    parser.add_argument("--max-query-cost", type=int, default=1000)
    parser.add_argument("--webhook-attempts", type=int, default=4)
    parser.add_argument("--webhook-retry-delay", type=float, default=0.25)
    parser.add_argument("--access-log", action="store_true", help="gunicorn access log")


def build_app(options: Any) -> StandinApp:
    """A StandinApp configured from the options (and seeded with the demo shop on --demo)."""
    config = Config()
    config.update({
        "api_key": options.api_key or os.environ.get("SHOPIFY_API_KEY") or config.api_key,
        "api_secret": (options.api_secret or os.environ.get("SHOPIFY_API_SECRET")
                       or config.api_secret),
        "app_url": options.app_url, "scopes": options.scopes,
        "access_ttl": options.access_ttl, "refresh_ttl": options.refresh_ttl,
        "bucket_max": options.bucket_max, "restore_rate": options.restore_rate,
        "max_query_cost": options.max_query_cost,
        "webhook_attempts": options.webhook_attempts,
        "webhook_retry_delay": options.webhook_retry_delay,
    })
    app = StandinApp(config)
    if options.demo:
        demo_seed(app.world)
    app.control.remember_initial()
    return app


def serve(options: Any) -> None:
    from gunicorn.app.base import BaseApplication

    app = build_app(options)
    relax_gc()

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            config = {"bind": f"{options.host}:{options.port}", "workers": 1,
                      "worker_class": "gthread", "threads": options.threads,
                      "timeout": 0, "graceful_timeout": 2, "keepalive": 30,
                      "accesslog": "-" if options.access_log else None,
                      "errorlog": "-", "loglevel": "warning"}
            for name, value in config.items():
                self.cfg.set(name, value)

        def load(self) -> StandinApp:
            return app

    seeded = f", {DEMO_SHOP_DOMAIN} seeded" if options.demo else ""
    print(f"standin: serving Shopify on http://{options.host}:{options.port}/{{shop}} "
          f"(control: /_shopify/, webhooks to {app.config.app_url}/webhooks/shopify{seeded})",
          file=sys.stderr, flush=True)
    _Gunicorn().run()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["stock"]:
        stock_main(argv[1:])
        return
    if argv[:1] == ["order"]:
        order_main(argv[1:])
        return
    parser = argparse.ArgumentParser(
        prog="python -m sandboxes.shopify", description="Local Shopify stand-in "
        "(`python -m sandboxes.shopify stock --help` changes a variant's stock)")
    add_arguments(parser)
    serve(parser.parse_args(argv))
