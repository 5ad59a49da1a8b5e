"""`make run` as a newcomer uses it: scripts/dev.py on free ports, driven over HTTP only.

What the README's demo flow says, checked: open the merchant app in the admin frame
(`/dev/admin/`: its iframe opens `/app/` with an ID token, the stand-in's token exchange
installs the demo shop and the catalog sync reads it), connect Klaviyo with the key dev.py
printed, subscribe from the demo storefront (through `/dev/apps/notifyme/`, the proxy stand-in),
change the stock with `python -m sandboxes.shopify stock ...` and see the "Back in Stock" event
in the Klaviyo sandbox, order through its link with `python -m sandboxes.shopify order ...` and
see it on the Revenue page. No `manage.py restock`, no row made by the test.
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import pytest
import requests

from sandboxes.klaviyo.admin import SandboxAdmin
from tests.journey.shopify_stack import free_port
from tests.sync.workers import ROOT, wait_until, worker_env

pytestmark = [pytest.mark.journey, pytest.mark.django_db(transaction=True)]

SHOP = "demo-shop.myshopify.com"
MEDIUM = 45120000000012  # Linen Camp Shirt, Medium: sold out in the demo catalog
XLARGE = 45120000000014  # and X-Large
WAIT = 90.0
#: dev.py's banner: a frame of "=", "notifyme is running", the URLs and keys, the frame again.
BANNER = re.compile(r"^={78}\nnotifyme is running.*?^={78}$", re.S | re.M)


class DevRun:
    def __init__(self) -> None:
        self.ports = {name: free_port() for name in ("WEB_PORT", "SANDBOX_PORT", "STANDIN_PORT")}
        self.web = f"http://127.0.0.1:{self.ports['WEB_PORT']}"
        self.sandbox = f"http://127.0.0.1:{self.ports['SANDBOX_PORT']}"
        self.standin = f"http://127.0.0.1:{self.ports['STANDIN_PORT']}"
        env = worker_env(**{k: str(v) for k, v in self.ports.items()})
        for own in ("KLAVIYO_API_URL", "SHOPIFY_ADMIN_URL"):  # dev.py's own defaults
            env.pop(own, None)
        self.log: IO[bytes] = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(  # noqa: S603 - our script, fixed arguments
            [sys.executable, "scripts/dev.py"], cwd=ROOT, env=env, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # dev.py stops its children
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()

    def wait(self, predicate: Any, what: str) -> Any:
        try:
            return wait_until(predicate, timeout=WAIT, interval=0.5)
        except AssertionError:
            raise AssertionError(f"{what}\n{self.output()[-5000:]}") from None

    def up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"dev.py exited\n{self.output()[-5000:]}")
        try:
            return all(requests.get(url, timeout=2).ok for url in (
                f"{self.web}/healthz", f"{self.sandbox}/_sandbox/health",
                f"{self.standin}/_shopify/health"))
        except requests.RequestException:
            return False


@pytest.fixture
def dev_runs() -> Iterator[list[DevRun]]:
    runs: list[DevRun] = []
    try:
        yield runs
    finally:
        for run in runs:
            run.stop()


def _signup(dev_run: DevRun, variant: int, email: str, **extra: Any) -> requests.Response:
    return requests.post(f"{dev_run.web}/dev/apps/notifyme/subscribe", timeout=30,
                         json={"variant_id": variant, "email": email, **extra})


def test_make_run_restock_from_the_standin_reaches_klaviyo(dev_runs: list[DevRun]) -> None:
    dev_run = DevRun()
    dev_runs.append(dev_run)
    # 0. The banner (URLs, keys) comes once every server answers, framed, after the start-up
    #    log: by the time it is printed the web already answered dev.py's /healthz poll, and
    #    the servers answer the newcomer at once.
    banner = dev_run.wait(lambda: BANNER.search(dev_run.output()), "no banner printed")
    assert dev_run.up(), "the banner was printed before the servers answered"
    before_banner = dev_run.output()[:banner.start()]
    assert re.search(r'GET /healthz HTTP/1\.1\\?" 200', before_banner), before_banner[-3000:]
    assert "Quit the server with" in before_banner  # the web's start-up lines come first
    assert "notifyme is running" not in before_banner  # printed once
    printed = re.search(r"full access:\s+(pk_\w+)", banner.group(0))
    assert printed, banner.group(0)
    key = printed.group(1)
    web = requests.Session()

    # 1. (README order) A shopper asks for the sold-out Medium on its product page.
    page = web.get(f"{dev_run.web}/dev/storefront/products/linen-camp-shirt", timeout=30)
    assert f'variant-{MEDIUM}' in page.text and 'data-proxy-path="/dev/apps/notifyme"' in page.text
    signup = _signup(dev_run, MEDIUM, "newcomer@demo.test", marketing_consent=True,
                     consent_text_version="v1")
    assert signup.status_code == 201, signup.text
    other = _signup(dev_run, XLARGE, "second@demo.test")
    assert other.status_code == 201, other.text

    # 2. The merchant opens the app in the local admin frame: its iframe is the embedded app.
    frame = web.get(f"{dev_run.web}/dev/admin/", timeout=30)
    assert frame.status_code == 200
    src = re.search(r'id="app-frame"[^>]*src="([^"]+)"', frame.text)
    assert src, frame.text[:2000]
    app = web.get(dev_run.web + html.unescape(src.group(1)), timeout=60)
    assert app.status_code == 200, app.text[:2000]

    def api(method: str, path: str, body: Any = None) -> requests.Response:
        token = web.get(f"{dev_run.web}/dev/admin/token", params={"shop": SHOP},
                        timeout=10).json()["token"]
        return web.request(method, f"{dev_run.web}/app/api/{path}", json=body, timeout=60,
                           headers={"Authorization": f"Bearer {token}"})

    dev_run.wait(lambda: (api("GET", "catalog/sync").json()["sync"] or {}).get("state")
                 == "succeeded", "the demo shop's catalog sync never finished")
    connected = api("POST", "klaviyo/connect", {"private_key": key})
    assert connected.status_code == 200, connected.text
    account = connected.json()["account"]["id"]

    klaviyo = SandboxAdmin(dev_run.sandbox)
    dev_run.wait(lambda: {p["email"] for p in klaviyo.profiles(account)}
                 == {"newcomer@demo.test", "second@demo.test"}, "the shoppers never synced")

    # 3. The merchant restocks in Shopify (the stand-in's command, as the README says).
    stock = subprocess.run(  # noqa: S603 - our module, fixed arguments
        [sys.executable, "-m", "sandboxes.shopify", "stock", "--url", dev_run.standin, SHOP,
         "DO-LCS-MEDIUM", "5"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False)
    assert stock.returncode == 0, stock.stderr
    assert "inventory_levels/update sent" in stock.stdout
    events = dev_run.wait(lambda: klaviyo.events(account, metric="Back in Stock"),
                          "no Back in Stock event after the stand-in's restock")
    assert len(events) == 1

    # 3b. The shopper follows the email's link (the event's product_url) and orders; the
    #     Revenue page counts it as direct, on top of the demo history `make run` loaded.
    before = api("GET", "revenue").json()["totals"]
    assert [(t["direct"], t["assisted"]) for t in before] == [("149.00", "95.00")]
    ordered = subprocess.run(  # noqa: S603 - our module, fixed arguments
        [sys.executable, "-m", "sandboxes.shopify", "order", "--url", dev_run.standin, SHOP,
         "DO-LCS-MEDIUM", "--email", "newcomer@demo.test",
         "--landing", events[0]["properties"]["product_url"]], cwd=ROOT, capture_output=True,
        text=True, timeout=60, check=False)
    assert ordered.returncode == 0, ordered.stderr
    dev_run.wait(lambda: api("GET", "revenue").json()["totals"][0]["direct"] == "217.00",
                 "the order through the alert link never counted as direct recovered revenue")

    # 4. Or on the stand-in's page: the X-Large's stock box at the warehouse, set to 5.
    shop_page = requests.get(f"{dev_run.standin}/_shopify/", params={"shop": SHOP}, timeout=30)
    item = 10**16 + XLARGE  # the stand-in's inventory item id of a variant
    form = re.search(rf"name='inventory_item_id' value='{item}'>"
                     r"<input type='hidden' name='location_id' value='(\d+)'>", shop_page.text)
    assert form, shop_page.text[:3000]
    posted = requests.post(f"{dev_run.standin}/_shopify/page/stock", timeout=30, data={
        "shop": SHOP, "inventory_item_id": item, "location_id": form.group(1), "available": 5})
    assert posted.status_code < 400, posted.text
    dev_run.wait(lambda: len(klaviyo.events(account, metric="Back in Stock")) == 2,
                 "no Back in Stock event after the stand-in page's restock")

    # 5. The next day: `make run` again on the same database. The stand-in starts from the
    #    seeded catalog (Medium at 0), and so does the app's mirror: the alert form is back.
    dev_run.stop()
    dev_runs.remove(dev_run)
    tomorrow = DevRun()
    dev_runs.append(tomorrow)
    tomorrow.wait(tomorrow.up, "the second make run never came up")
    again = _signup(tomorrow, MEDIUM, "tomorrow@demo.test")
    assert again.status_code == 201, again.text
