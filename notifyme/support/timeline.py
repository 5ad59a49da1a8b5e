"""The shopper timeline: everything the app did for one shopper, in time order, per shop.

A shopper is found from one of their subscriptions (the page's key: an opaque id, so no email
or phone ends up in a URL or an access log): every subscription with the same normalised email
or the same E.164 phone, in any shop. For them, in one page: each signup, each Klaviyo call
that carried them (batch calls included, through `SyncAttemptSubscription`), the sync work
rows and their next try, each restock of their variants since they signed up with their
delivery in it, each `inventory_levels/update` webhook for those variants' inventory items —
and per alert the outcome sentence (`outcome.subscription_outcome`).

Reads only; bounded (`MAX_*`), and every query is indexed by subscription, variant or shop.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt, SyncAttemptSubscription
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.support import timeline_events as build
from notifyme.support.explain import Explanation
from notifyme.support.outcome import Outcome, subscription_outcome
from notifyme.support.timeline_events import Event
from notifyme.sync.models import OutboxItem
from notifyme.webhooks.models import WebhookEvent

MAX_ALERTS = 200
MAX_CALLS = 300
MAX_WEBHOOKS_PER_VARIANT = 20
INVENTORY_TOPIC = "inventory_levels/update"


@dataclass
class Alert:
    subscription: Subscription
    outcome: Outcome
    matched_by: str


@dataclass
class ShopSection:
    shop: Shop
    connection: KlaviyoConnection | None
    alerts: list[Alert] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass
class Timeline:
    anchor: Subscription
    contact: str
    sections: list[ShopSection]
    truncated: bool = False
    calls_truncated: bool = False


def shopper_subscriptions(*, anchor: Subscription) -> tuple[list[Subscription], bool]:
    """Every subscription of the anchor's shopper (same email or phone), newest first, at most
    `MAX_ALERTS`; and whether there were more."""
    same = Q(pk=anchor.pk)
    if anchor.email:
        same |= Q(email=anchor.email)
    if anchor.phone:
        same |= Q(phone=anchor.phone)
    rows = list(Subscription.objects.filter(same).select_related("shop", "variant__product")
                .order_by("-created_at", "-id")[:MAX_ALERTS + 1])
    return rows[:MAX_ALERTS], len(rows) > MAX_ALERTS


def _matched_by(sub: Subscription, anchor: Subscription) -> str:
    if sub.pk == anchor.pk:
        return "the searched alert"
    if anchor.email and sub.email == anchor.email:
        return "same email"
    return "same phone"


def _calls(ids: list[int]) -> tuple[list[tuple[SyncAttempt, list[int]]], bool]:
    """The newest `MAX_CALLS` calls that carried any of `ids`, each with which of them."""
    carried = SyncAttemptSubscription.objects.filter(subscription_id__in=ids)
    attempts = list(SyncAttempt.objects.filter(
        Q(pk__in=carried.values("attempt_id")) | Q(subscription_id__in=ids))
        .order_by("-created_at", "-id")[:MAX_CALLS + 1])
    shown = attempts[:MAX_CALLS]
    links: dict[int, list[int]] = defaultdict(list)
    for attempt_id, sub_id in carried.filter(attempt_id__in=[a.pk for a in shown]).values_list(
            "attempt_id", "subscription_id"):
        links[attempt_id].append(sub_id)
    for attempt in shown:
        if attempt.subscription_id in ids and attempt.subscription_id not in links[attempt.pk]:
            links[attempt.pk].append(attempt.subscription_id)
    return [(a, links[a.pk]) for a in shown], len(attempts) > MAX_CALLS


def _webhooks(subs: list[Subscription]) -> list[tuple[WebhookEvent, int]]:
    """Inventory webhooks for each alert's variant since its first signup, with the alert."""
    found: list[tuple[WebhookEvent, int]] = []
    for first in _first_per_variant(subs).values():
        item = first.variant.inventory_item_id
        if not item:
            continue
        hooks = (WebhookEvent.objects.filter(
            shop_id=first.shop_id, topic=INVENTORY_TOPIC, received_at__gte=first.created_at,
            payload__inventory_item_id=item).order_by("-received_at")[:MAX_WEBHOOKS_PER_VARIANT])
        found.extend((hook, first.pk) for hook in hooks)
    return found


def shopper_timeline(*, subscription_id: int) -> Timeline | None:
    """The timeline of the shopper of subscription `subscription_id` (None when unknown)."""
    anchor = (Subscription.objects.select_related("shop", "variant__product")
              .filter(pk=subscription_id).first())
    if anchor is None:
        return None
    subs, truncated = shopper_subscriptions(anchor=anchor)
    connections = {c.shop_id: c for c in KlaviyoConnection.objects.filter(
        shop_id__in={s.shop_id for s in subs})}
    page = _Page(subs, {})
    for sub in subs:
        if sub.shop_id not in page.sections:
            page.sections[sub.shop_id] = ShopSection(sub.shop, connections.get(sub.shop_id))
        page.add(sub.pk, build.signup_event(sub))
    failures, calls_truncated = _add_calls(page)
    for item in OutboxItem.objects.filter(subscription_id__in=page.ids).order_by("id"):
        for event in build.outbox_events(item, page.label[item.subscription_id]):
            page.add(item.subscription_id, event)
    deliveries = _add_deliveries(page)
    _restocks(page, deliveries)
    for hook, sub_id in _webhooks(subs):
        page.add(sub_id, build.webhook_event(hook, page.label[sub_id]))
    for sub in subs:
        outcome = subscription_outcome(subscription=sub, deliveries=deliveries[sub.pk],
                                       connection=connections.get(sub.shop_id),
                                       failure=failures.get(sub.pk))
        page.sections[sub.shop_id].alerts.append(Alert(sub, outcome, _matched_by(sub, anchor)))
    for section in page.sections.values():
        section.events.sort(key=lambda event: event.at)
    return Timeline(anchor, anchor.contact, list(page.sections.values()), truncated,
                    calls_truncated)


@dataclass
class _Page:
    """The shopper's alerts and the sections being filled, one per shop."""

    subs: list[Subscription]
    sections: dict[int, ShopSection]

    def __post_init__(self) -> None:
        self.by_id = {s.pk: s for s in self.subs}
        self.ids = list(self.by_id)
        self.label = {s.pk: str(s.variant) for s in self.subs}

    def add(self, subscription_id: int, event: Event) -> None:
        self.sections[self.by_id[subscription_id].shop_id].events.append(event)


def _add_calls(page: _Page) -> tuple[dict[int, Explanation], bool]:
    """Each call that carried the shopper; returns per alert its newest failure explained."""
    calls, truncated = _calls(page.ids)
    failures: dict[int, Explanation] = {}
    for attempt, carried in calls:
        if not carried:
            continue
        page.add(carried[0], build.call_event(attempt, [page.label[i] for i in carried]))
        if not attempt.ok:
            for sub_id in carried:  # newest first: keep the first failure seen
                failures.setdefault(sub_id, build.call_explanation(attempt))
    return failures, truncated


def _add_deliveries(page: _Page) -> dict[int, list[RestockDelivery]]:
    """Each restock delivery of the shopper; returns them per alert, newest restock first."""
    deliveries: dict[int, list[RestockDelivery]] = defaultdict(list)
    for delivery in (RestockDelivery.objects.filter(subscription_id__in=page.ids)
                     .select_related("restock").order_by("-restock__started_at", "-id")):
        deliveries[delivery.subscription_id].append(delivery)
        page.add(delivery.subscription_id,
                 build.delivery_event(delivery, page.label[delivery.subscription_id]))
    return deliveries


def _first_per_variant(subs: list[Subscription]) -> dict[int, Subscription]:
    """Per variant, the shopper's earliest alert for it (restocks and webhooks since then)."""
    first: dict[int, Subscription] = {}
    for sub in subs:
        if sub.variant_id not in first or sub.created_at < first[sub.variant_id].created_at:
            first[sub.variant_id] = sub
    return first


def _restocks(page: _Page, deliveries: dict[int, list[RestockDelivery]]) -> None:
    """Each restock of the shopper's variants since their signup (with or without them)."""
    first = _first_per_variant(page.subs)
    mine = {d.restock_id: d for rows in deliveries.values() for d in rows}
    wanted = Q(pk__in=list(mine))
    for variant_id, sub in first.items():
        wanted |= Q(variant_id=variant_id, started_at__gte=sub.created_at)
    for restock in Restock.objects.filter(wanted).order_by("started_at")[:MAX_ALERTS]:
        delivery = mine.get(restock.pk)
        owner = delivery.subscription_id if delivery else first[restock.variant_id].pk
        page.add(owner, build.restock_event(restock, delivery, page.label[owner]))
