"""The Procfile runs the product in production: each of its lines, started as a platform starts
it (`bash -c`, `$PORT` set), with production settings (DEBUG off, real secrets, no dev tools).

`release` migrates and collects the static files; `web` (gunicorn, gunicorn.conf.py) serves the
embedded app with its hashed, compressed static files and the storefront; `worker` syncs a
storefront signup to the Klaviyo sandbox; `sweeper` keeps running. No row is written for the
processes by hand except the installed shop and its sold-out variant.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from django.conf import settings

from tests.factories import shop_make, variant_make
from tests.fixtures.shopify import id_token, signed_proxy_query
from tests.journey.shopify_stack import free_port
from tests.sync.workers import Worker, _spawn, stop_workers, wait_until, worker_env

pytestmark = [pytest.mark.chaos, pytest.mark.journey, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SHOP = "harbour-goods.myshopify.com"
SHOPPER = "ada@procfile.test"
LINE = re.compile(r"^(?P<name>[a-z]+):\s*(?P<command>.+)$")


def procfile() -> dict[str, str]:
    entries = {}
    for raw in (ROOT / "Procfile").read_text().splitlines():
        match = LINE.match(raw)
        if match:
            entries[match["name"]] = match["command"]
    return entries


@pytest.fixture
def processes() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    stop_workers(started, grace=10)


def test_the_procfile_names_the_production_processes() -> None:
    assert set(procfile()) == {"release", "web", "worker", "sweeper"}
    assert "--with-scheduler" in procfile()["worker"]
    assert all(queue in procfile()["worker"].split() for queue in settings.RQ_QUEUES)


def test_the_procfile_runs_the_product_with_production_settings(
        tmp_path: Path, klaviyo_sandbox: Any, processes: list[Worker],
        settings: Any) -> None:
    encryption_key, app_secret = Fernet.generate_key().decode(), secrets.token_hex(32)
    settings.NOTIFYME_ENCRYPTION_KEYS = [encryption_key]  # the shop's token, as production reads it
    shop = shop_make(SHOP, name="Harbour Goods")
    variant = variant_make(shop, quantity=0)
    port = free_port()
    env = worker_env(
        DJANGO_SETTINGS_MODULE="notifyme.settings", DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1",
        SHOPIFY_API_KEY=settings.SHOPIFY_API_KEY, SHOPIFY_API_SECRET=app_secret,
        NOTIFYME_ENCRYPTION_KEYS=encryption_key, NOTIFYME_DEV_TOOLS="0",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback; TLS ends at the load balancer
        STATIC_ROOT=str(tmp_path / "static"), PORT=str(port),
        PATH=f"{Path(sys.executable).parent}:{worker_env()['PATH']}")
    lines = procfile()

    release = _spawn(["bash", "-c", lines["release"]], env, "release")
    assert release.proc.wait(timeout=300) == 0, release.output()
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]

    for name in ("web", "worker", "sweeper"):
        processes.append(_spawn(["bash", "-c", f"exec {lines[name]}"], env, name))
    app = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return requests.get(f"{app}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    _wait(answers, "web never answered /healthz", processes)

    # The merchant opens the embedded app: its page names the hashed static files, which the
    # web process serves compressed and cacheable for good.
    page = requests.get(f"{app}/app/", params={
        "id_token": id_token(SHOP, secret=app_secret), "shop": SHOP, "embedded": "1"},
        timeout=30)
    assert page.status_code == 200, page.text[:2000]
    hashed = [name for name in re.findall(r'/static/([^"\']+)', page.text)]
    assert hashed and set(hashed) <= set(manifest.values()), hashed
    asset = requests.get(f"{app}/static/{hashed[0]}", headers={"Accept-Encoding": "gzip"},
                         timeout=10)
    assert asset.status_code == 200
    assert asset.headers.get("Content-Encoding") == "gzip"
    assert "immutable" in asset.headers["Cache-Control"]

    # The merchant connects Klaviyo; a shopper signs up; the worker syncs her to Klaviyo.
    account, key = klaviyo_sandbox.new_account("Harbour Goods")
    connected = requests.post(f"{app}/app/api/klaviyo/connect", json={"private_key": key},
                              headers={"Authorization":
                                       f"Bearer {id_token(SHOP, secret=app_secret)}"},
                              timeout=60)
    assert connected.status_code == 200, connected.text
    assert connected.json()["status"] == "connected"
    signed = signed_proxy_query(SHOP, secret=app_secret)
    signup = requests.post(f"{app}/proxy/subscribe?{signed}", timeout=30,
                           json={"variant_id": variant.shopify_id, "email": SHOPPER})
    assert signup.status_code == 201, signup.text

    def synced() -> bool:
        return SHOPPER in {p["email"] for p in klaviyo_sandbox.admin.profiles(account["id"])}

    _wait(synced, "the worker never synced the signup", processes)
    assert all(process.alive() for process in processes), [p.name for p in processes]
    assert "sync sweeper:" in processes[2].output()


def _wait(predicate: Any, what: str, processes: list[Worker]) -> None:
    try:
        wait_until(predicate, timeout=90)
    except AssertionError:
        tails = "".join(f"\n--- {p.name} (alive={p.alive()})\n{p.output(2500)}"
                        for p in processes)
        raise AssertionError(f"{what}{tails}") from None
