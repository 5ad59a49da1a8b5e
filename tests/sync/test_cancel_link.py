"""The "Subscribed to Back in Stock" event carries the shopper's own link to cancel the alert,
and that link, reached through the store's app proxy, withdraws exactly that subscription."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from django.test import Client

from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.sync import engine
from notifyme.sync.profile_fields import SUBSCRIBED_METRIC

from .conftest import Merchant, add_subscribers


def _links(merchant: Merchant) -> dict[str, str]:
    """{unique_id: cancel_alert_url} of the events the sandbox stored."""
    events = merchant.admin.events(merchant.account_id, metric=SUBSCRIBED_METRIC)
    return {e["unique_id"]: e["properties"]["cancel_alert_url"] for e in events}


def test_lone_signup_event_links_to_its_own_cancel_page_through_the_app_proxy(
    merchant: Merchant, client: Client, proxy_query: Callable[..., str]
) -> None:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="ann@shop.test")
    engine.run_shop(merchant.shop.pk, "sync")  # single path: POST /api/events
    link = urlsplit(_links(merchant)[f"notifyme:subscribed:{sub.pk}"])
    assert (link.scheme, link.netloc) == ("https", merchant.shop.domain)
    assert link.path == "/apps/notifyme/unsubscribe"
    token = parse_qs(link.query)["token"][0]
    assert token == sub.unsubscribe_token
    # Shopify's proxy forwards /apps/notifyme/unsubscribe to our /proxy/unsubscribe, signed.
    signed = proxy_query(merchant.shop.domain, extra={"token": token})
    page = client.get(f"/proxy/unsubscribe?{signed}")
    assert page.status_code == 200 and b"Linen Shirt" in page.content
    done = client.post(f"/proxy/unsubscribe?{signed}", {"token": token})
    assert done.status_code == 200
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.UNSUBSCRIBED


def test_bulk_events_each_carry_their_own_subscribers_link(merchant: Merchant) -> None:
    count = 30
    subs = add_subscribers(merchant, count)
    engine.run_shop(merchant.shop.pk, "bulk")  # bulk path: one event-bulk-create job
    links = _links(merchant)
    assert len(links) == count
    for sub in subs:
        query = parse_qs(urlsplit(links[f"notifyme:subscribed:{sub.pk}"]).query)
        assert query["token"] == [sub.unsubscribe_token]
    assert len(set(links.values())) == count  # no link shared between subscribers
