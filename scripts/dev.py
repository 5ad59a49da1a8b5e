"""`make run`: migrate, load the demo shop, then run web + worker + sweeper + Klaviyo sandbox +
Shopify stand-in (seeded with the same demo shop; its webhooks go to the web process).

Ctrl-C stops them all. Keys for the sandbox are made fresh on every start and printed, so no
key (not even a fake one) is ever committed. The banner with the URLs and keys comes last, once
every server answers its health URL, framed so it stands out from the start-up log.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
WEB_PORT = int(os.environ.get("WEB_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8100"))
STANDIN_PORT = int(os.environ.get("STANDIN_PORT", "8200"))
#: How long the servers may take to answer before `make run` gives up (a cold start on a busy
#: laptop imports Django four times).
STARTUP_TIMEOUT = float(os.environ.get("DEV_STARTUP_TIMEOUT", "120"))
FRAME = "=" * 78


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)  # noqa: S603 - our manage.py


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our localhost
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_up(children: dict[str, subprocess.Popen[bytes]], health: dict[str, str]) -> bool:
    """Poll every server's health URL until all answer 2xx; False if a child exits first or
    `STARTUP_TIMEOUT` passes (the caller stops the rest)."""
    waiting = dict(health)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while waiting:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"make run: {name} exited with {child.returncode} while starting",
                      file=sys.stderr, flush=True)
                return False
        waiting = {name: url for name, url in waiting.items() if not answers(url)}
        if waiting and time.monotonic() > deadline:
            print(f"make run: no answer after {STARTUP_TIMEOUT:.0f} s from "
                  + ", ".join(f"{name} ({url})" for name, url in waiting.items()),
                  file=sys.stderr, flush=True)
            return False
        if waiting:
            time.sleep(0.3)
    return True


def stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()


def stop_and_wait(children: dict[str, subprocess.Popen[bytes]]) -> None:
    stop(children)
    for child in children.values():
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def banner(base: str, full_key: str, no_profiles_write: str) -> str:
    """What a newcomer needs, framed: printed last, once every server answers."""
    return f"""
{FRAME}
notifyme is running (web, sandbox and stand-in answered their health checks).
  Demo storefront (shopper):   {base}/dev/storefront/
  Merchant app in admin frame: {base}/dev/admin/
  Support admin:               {base}/admin/   (user admin / password admin, development only)
  Klaviyo sandbox (received):  http://127.0.0.1:{SANDBOX_PORT}/_sandbox/
  Shopify stand-in (restock):  http://127.0.0.1:{STANDIN_PORT}/_shopify/
    or: python -m sandboxes.shopify stock --url http://127.0.0.1:{STANDIN_PORT} \
          demo-shop.myshopify.com DO-LCS-MEDIUM 5
  Sandbox keys for the settings page:
    full access:              {full_key}
    missing profiles:write:   {no_profiles_write}
Ctrl-C stops web, worker, sweeper, sandbox and stand-in.
{FRAME}
"""


def main() -> int:
    env = dict(os.environ)
    # The settings are production unless DEBUG=1: the local run wants the development defaults
    # (dev secrets, the /dev/ stand-ins, the demo admin user) for itself and every child.
    env.setdefault("DEBUG", "1")
    env.setdefault("KLAVIYO_API_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    env.setdefault("SHOPIFY_ADMIN_URL", f"http://127.0.0.1:{STANDIN_PORT}/{{shop}}")
    os.environ.update(env)
    manage("migrate", "--noinput")
    # The stand-in starts from the seeded catalog every time (its state is in memory), so the
    # app's mirror of the demo shop goes back to the seeded stock too: otherwise a variant
    # restocked in an earlier run stays "in stock" here while Shopify says 0, and the demo
    # storefront refuses the alert form for it.
    manage("demo", "--reset-stock")
    manage("demo_revenue")  # past restocks and recovered orders for the Revenue page

    full_key = "pk_" + secrets.token_hex(17)
    no_profiles_write = "pk_" + secrets.token_hex(17)
    limited_scopes = ",".join([
        "lists:read", "lists:write", "events:write", "subscriptions:write", "accounts:read",
        "profiles:read",
    ])
    processes = {
        "sandbox": [PY, "manage.py", "klaviyo_sandbox", "--port", str(SANDBOX_PORT),
                    "--account-name", "Demo Klaviyo Account",
                    "--key", f"{full_key}=all", "--key", f"{no_profiles_write}={limited_scopes}"],
        # Plays Shopify for the demo shop: token exchange, Admin GraphQL, signed webhooks.
        "standin": [PY, "manage.py", "shopify_standin", "--port", str(STANDIN_PORT), "--demo",
                    "--app-url", f"http://127.0.0.1:{WEB_PORT}"],
        "worker": [PY, "manage.py", "rqworker", "sync", "bulk", "default", "--with-scheduler"],
        # The sync engine's clock: delayed nudges (~10/s) and the minute sweep for lost work.
        "sweeper": [PY, "manage.py", "sync_sweeper"],
        "web": [PY, "manage.py", "runserver", f"127.0.0.1:{WEB_PORT}", "--noreload"],
    }
    children = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=env)  # noqa: S603 - fixed commands
        for name, cmd in processes.items()
    }
    base = f"http://127.0.0.1:{WEB_PORT}"
    health = {
        "web": f"{base}/healthz",
        "sandbox": f"http://127.0.0.1:{SANDBOX_PORT}/_sandbox/health",
        "standin": f"http://127.0.0.1:{STANDIN_PORT}/_shopify/health",
    }
    signal.signal(signal.SIGTERM, lambda *_: stop(children))
    try:
        up = wait_until_up(children, health)
    except KeyboardInterrupt:
        up = False
    if not up:
        stop_and_wait(children)
        return 1
    print(banner(base, full_key, no_profiles_write), flush=True)
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop_and_wait(children)
    exited = [name for name, child in children.items() if child.returncode not in (0, -15, None)]
    return 1 if exited else 0


if __name__ == "__main__":
    sys.exit(main())
