"""Serving the sandbox: gunicorn, one process (state is in memory), gthread workers.

`serve(options)` blocks. Command-line options are shared by `python -m sandboxes.klaviyo` and
`manage.py klaviyo_sandbox`:
  --port N  --host H  --threads N
  --key KEY=all | --key KEY=scope,scope     (repeatable; the account below gets the keys)
  --account-name NAME  --account-id ID  --no-rate-limits  --rate-limit-scale X
Keys given on the command line are never printed (only `pk_…abcd`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from notifyme.core.gc_tuning import relax_gc

from .app import SandboxApp
from .ids import mask_key


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--key", action="append", default=[], metavar="KEY=SCOPES",
                        help="a private key for the account: KEY=all or KEY=scope,scope")
    parser.add_argument("--account-name", default="Sandbox Store")
    parser.add_argument("--account-id", default=None)
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--rate-limit-scale", type=float, default=1.0)
    parser.add_argument("--access-log", action="store_true", help="gunicorn access log")


def build_app(options: Any) -> SandboxApp:
    """A SandboxApp seeded from the options (account + keys + rate-limit switch)."""
    app = SandboxApp()
    registry = app.registry
    registry.limiter.configure(enabled=not options.no_rate_limits,
                               scale=options.rate_limit_scale)
    if options.key or options.account_id:
        account = registry.create_account(options.account_name, options.account_id)
        for spec in options.key:
            key, sep, scopes = spec.partition("=")
            if not key.strip():
                raise SystemExit(f"--key needs KEY=SCOPES, got {mask_key(spec)!r}")
            registry.create_key(account.id, scopes.strip() if sep else "all", key.strip())
            print(f"sandbox: account {account.id} ({account.name}) key {mask_key(key.strip())}"
                  f" scopes={scopes or 'all'}", file=sys.stderr)
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

        def load(self) -> SandboxApp:
            return app

    print(f"sandbox: serving Klaviyo API on http://{options.host}:{options.port} "
          f"(admin: /_sandbox/)", file=sys.stderr, flush=True)
    _Gunicorn().run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.klaviyo",
                                     description="Local Klaviyo API sandbox")
    add_arguments(parser)
    serve(parser.parse_args(argv))
