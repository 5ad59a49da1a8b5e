"""The product driven the way its users drive it, end to end, with no app row made by hand.

Shoppers sign up through Shopify's app proxy (signed exactly as Shopify signs), the merchant
connects Klaviyo through the embedded JSON API (an App Bridge ID token), real worker and
sweeper processes sync, the merchant restocks with `manage.py restock`, and a shopper cancels
through the link the merchant's Klaviyo email carries. Every check on the Klaviyo side goes
through the sandbox's inspection API. The shop and its catalog come from `manage.py demo`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import requests
from django.conf import settings
from django.core.management import call_command

from notifyme.dev.demo import DEMO_PRODUCTS, DEMO_SHOP_DOMAIN
from notifyme.subscriptions.models import Subscription
from tests.factories import shop_grant
from tests.fixtures.shopify import id_token, signed_proxy_query
from tests.sync.workers import (
    Worker,
    start_sweeper,
    start_workers,
    stop_workers,
    wait_until,
    worker_env,
)

pytestmark = [pytest.mark.chaos, pytest.mark.journey, pytest.mark.django_db(transaction=True)]

# The metric names merchants build their Klaviyo flows on (an external interface).
SUBSCRIBED_METRIC = "Subscribed to Back in Stock"
BACK_IN_STOCK = "Back in Stock"
FAST = {"RESTOCK_LEASE_SECONDS": "5", "RESTOCK_ALIVE_SECONDS": "2", "LOG_LEVEL": "WARNING"}
WAIT = 60.0
# A sold-out, tracked, "deny" variant of the demo catalog (it offers the alert form).
SOLD_OUT = next(v.shopify_id for p in DEMO_PRODUCTS for v in p.variants
                if v.tracked and v.stock == 0 and v.policy == "deny")
SHOPPERS = {  # email -> ticked the marketing box
    "ada@journey.test": True,
    "grace@journey.test": True,
    "alan@journey.test": False,  # wants the alert only: no marketing consent
    "edsger@journey.test": True,  # cancels the alert from her confirmation email
}
CANCELLER = "edsger@journey.test"


class Storefront:
    """What Shopify's app proxy does for a shopper: `https://<shop>/apps/notifyme/<path>?<q>`
    reaches `<app>/proxy/<path>?<q>&shop=…&path_prefix=…&timestamp=…&signature=…`."""

    def __init__(self, app_url: str, shop_domain: str) -> None:
        self.app_url = app_url
        self.shop_domain = shop_domain
        self.http = requests.Session()

    def _proxied(self, storefront_url: str) -> str:
        link = urlsplit(storefront_url)
        assert (link.scheme, link.netloc) == ("https", self.shop_domain), storefront_url
        prefix = settings.SHOPIFY_APP_PROXY_PATH + "/"
        assert link.path.startswith(prefix), storefront_url
        own = dict(parse_qsl(link.query))
        query = signed_proxy_query(self.shop_domain, extra=own)
        return f"{self.app_url}/proxy/{link.path.removeprefix(prefix)}?{query}"

    def url(self, path: str) -> str:
        return f"https://{self.shop_domain}{settings.SHOPIFY_APP_PROXY_PATH}/{path}"

    def get(self, storefront_url: str) -> requests.Response:
        return self.http.get(self._proxied(storefront_url), timeout=10)

    def post(self, storefront_url: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self._proxied(storefront_url), timeout=10, **kwargs)


class Merchant:
    """The embedded admin's calls: JSON with a fresh App Bridge ID token on each request."""

    def __init__(self, app_url: str, shop_domain: str) -> None:
        self.app_url = app_url
        self.shop_domain = shop_domain

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {id_token(self.shop_domain)}"}
        return requests.request(method, f"{self.app_url}/app/api/{path}", json=body,
                                headers=headers, timeout=30)

    def latest_restock(self) -> dict[str, Any]:
        """The newest row of the restock panel (`GET /app/api/restocks`)."""
        restocks = self.call("GET", "restocks").json()["restocks"]
        return restocks[0] if restocks else {}


@pytest.fixture
def processes() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    stop_workers(started, grace=5)


class _FirstForm(HTMLParser):
    """The page's first form (its primary button): action and the fields it submits."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and self.action is not None and not self._done and "name" in values:
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._done = True


def _first_form(page: str) -> _FirstForm:
    form = _FirstForm()
    form.feed(page)
    assert form.action is not None, page[:500]
    return form


def _restock(quantity: int) -> None:
    call_command("restock", DEMO_SHOP_DOMAIN, str(SOLD_OUT), str(quantity))


def test_signup_sync_restock_and_cancel_as_users_do(
    live_server: Any, klaviyo_sandbox: Any, processes: list[Worker]
) -> None:
    call_command("demo")  # the installed demo shop and its catalog, as `make run` seeds it
    shop_grant(DEMO_SHOP_DOMAIN)  # its Shopify token, as the install's exchange stores it
    admin = klaviyo_sandbox.admin
    account, key = klaviyo_sandbox.new_account("Journey Outfitters")
    store = Storefront(live_server.url, DEMO_SHOP_DOMAIN)
    merchant = Merchant(live_server.url, DEMO_SHOP_DOMAIN)

    # 1. Shoppers sign up on the product page of a sold-out variant (before Klaviyo is set up).
    for email, consent in SHOPPERS.items():
        body = {"variant_id": SOLD_OUT, "email": email, "marketing_consent": consent,
                "consent_text_version": "v1" if consent else ""}
        response = store.post(store.url("subscribe"), json=body)
        assert response.status_code == 201, response.text

    # 2. The merchant connects Klaviyo in the embedded admin; real workers take it from there.
    env = worker_env(**FAST)
    processes += start_workers(1, queues=("sync", "bulk", "default"), env=env)
    processes.append(start_sweeper(env, interval=2.0))
    connected = merchant.call("POST", "klaviyo/connect", {"private_key": key})
    assert connected.status_code == 200, connected.text
    assert connected.json()["status"] == "connected"
    list_id = connected.json()["list"]["id"]

    def logs(text: str) -> str:
        states = Counter(Subscription.objects.values_list("status", "sync_state"))
        tails = "".join(f"\n--- {p.name}\n{p.output(1500)}" for p in processes)
        return f"{text}: {dict(states)}{tails}"

    def wait(predicate: Callable[[], object], what: str) -> None:
        try:
            wait_until(predicate, timeout=WAIT)
        except AssertionError:
            raise AssertionError(logs(what)) from None

    def synced() -> bool:
        return not Subscription.objects.exclude(sync_state="synced").exists()

    wait(synced, "subscribers never synced")
    status = merchant.call("GET", "klaviyo").json()
    assert status["subscribers"] == {"pending": 0, "synced": len(SHOPPERS), "failed": 0}
    assert status["status"] == "connected" and status["last_sync_at"]
    profiles = {p["email"]: p for p in admin.profiles(account["id"])}
    assert set(SHOPPERS) <= set(profiles)
    members = set(admin.list_members(account["id"], list_id))
    assert {profiles[e]["id"] for e in SHOPPERS} <= members
    consented = {s.get("email") for s in admin.subscriptions(account["id"])}
    assert {e for e, c in SHOPPERS.items() if c} <= consented
    assert {e for e, c in SHOPPERS.items() if not c}.isdisjoint(consented)

    # 3. A shopper cancels with the link in her confirmation email (the "Subscribed" event).
    email_of = {p["id"]: email for email, p in profiles.items()}
    links = {email_of[e["profile_id"]]: e["properties"]["cancel_alert_url"]
             for e in admin.events(account["id"], metric=SUBSCRIBED_METRIC)}
    assert set(links) == set(SHOPPERS)
    page = store.get(links[CANCELLER])
    assert page.status_code == 200, page.text
    # She presses the confirmation page's button: its form posts (a relative action, so back
    # through the proxy) the fields it holds.
    form = _first_form(page.text)
    done = store.post(urljoin(links[CANCELLER], form.action), data=form.fields)
    assert done.status_code == 200, done.text
    wait(synced, "the cancellation never synced")
    assert profiles[CANCELLER]["id"] not in admin.list_members(account["id"], list_id)
    assert Subscription.objects.get(email=CANCELLER).status == "unsubscribed"

    # 4. The merchant restocks: one "Back in Stock" event per waiting subscriber, once each.
    _restock(5)
    wait(lambda: merchant.latest_restock().get("state") == "completed",
         "restock never completed")
    restock = merchant.latest_restock()
    waiting = Subscription.objects.exclude(email=CANCELLER)
    assert (restock["total"], restock["sent"], restock["failed"]) == (len(waiting), len(waiting), 0)
    expected = {f"notifyme:bis:{restock['id']}:{s.pk}" for s in waiting}
    events = admin.events(account["id"], metric=BACK_IN_STOCK)
    per_id = Counter(e["unique_id"] for e in events)
    assert set(per_id) == expected and max(per_id.values()) == 1, per_id
    canceller_profile = profiles[CANCELLER]["id"]
    assert all(e["profile_id"] != canceller_profile for e in events)

    # 5. Sold out again; a new shopper signs up; back in stock: she hears, the canceller not.
    _restock(0)
    late = "barbara@journey.test"
    response = store.post(store.url("subscribe"), json={"variant_id": SOLD_OUT, "email": late})
    assert response.status_code == 201, response.text
    wait(synced, "the late signup never synced")
    _restock(5)
    wait(lambda: merchant.latest_restock().get("id") != restock["id"]
         and merchant.latest_restock().get("state") == "completed",
         "second restock never completed")
    second = merchant.latest_restock()
    assert (second["total"], second["sent"], second["failed"]) == (1, 1, 0)
    again = Counter(e["unique_id"] for e in admin.events(account["id"], metric=BACK_IN_STOCK))
    newcomer = Subscription.objects.get(email=late)
    assert again == per_id + Counter({f"notifyme:bis:{second['id']}:{newcomer.pk}": 1}), again
    assert Subscription.objects.get(email=CANCELLER).status == "unsubscribed"
