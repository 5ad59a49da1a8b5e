"""Security fixtures: two fully populated shops (the attacker's A and the victim B), B's state
as a comparable snapshot, and the URL resolver walked into every route.

A and B are each `tests.privacy.conftest.shopper_everywhere` (connected to Klaviyo, shoppers
synced, a restock sent) plus what else a merchant id can name: a waitlist import, a compliance
(data) request and a location. Their ids (`Victim`) are what the isolation walk plants in
every path parameter and id field."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver

from notifyme.catalog.models import Location
from notifyme.catalog.services import locations_apply
from notifyme.catalog.snapshots import LocationSnapshot
from notifyme.privacy.models import ComplianceRequest
from notifyme.shops.models import Shop
from notifyme.waitlists.importing import waitlist_import_start
from notifyme.waitlists.models import WaitlistImport
from tests.fixtures.sandbox import SandboxHandle
from tests.privacy.conftest import Store, deliver, shopper_everywhere

SHOP_A = "attacker-shop.myshopify.com"
SHOP_B = "victim-shop.myshopify.com"
#: Text only B's rows hold: no response to A may contain it.
B_MARKERS = ("victim-only-shopper@example.com", "Victim Secret Jacket")


@dataclass
class Tenant:
    store: Store
    import_id: int
    request_id: int
    location_id: int
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def shop(self) -> Shop:
        return self.store.shop


def tenant_make(sandbox: SandboxHandle, domain: str, *, marker_email: str = "",
                marker_title: str = "") -> Tenant:
    store = shopper_everywhere(sandbox, domain=domain)
    shop = store.shop
    if marker_title:
        store.variant.product.title = marker_title
        store.variant.product.save(update_fields=["title"])
    csv = f"email,variant_id\n{marker_email or 'imported@example.com'},{store.variant.shopify_id}\n"
    batch = waitlist_import_start(shop=shop, raw=csv.encode(), filename="waitlist.csv")
    deliver("customers/data_request",
            {"customer": {"id": 7390001, "email": store.subs[0].email},
             "orders_requested": [], "data_request": {"id": 4242}}, shop_domain=domain)
    request = ComplianceRequest.objects.filter(shop=shop).latest("pk")
    location_shopify_id = 880000 + shop.pk
    locations_apply(shop=shop, locations=[LocationSnapshot(location_shopify_id, "Back room")],
                    complete=False)
    location = Location.objects.get(shop=shop, shopify_id=location_shopify_id)
    tenant = Tenant(store, batch.pk, request.pk, location.pk)
    variant = store.variant
    tenant.ids = {
        # Path parameters (by their name in the URL pattern) and query/body id fields.
        "subscription_id": store.subs[0].pk, "import_id": batch.pk,
        "variant_id": variant.pk, "variant": variant.pk, "request": request.pk,
        "request_id": request.pk, "location_ids": [str(location_shopify_id)],
        "product_id": variant.product.pk, "list_id": store.connected.list_id,
        "shop": domain, "restock_id": variant.restocks.latest("pk").pk,
    }
    return tenant


@pytest.fixture
def tenants(db: None, klaviyo_sandbox: SandboxHandle) -> tuple[Tenant, Tenant]:
    attacker = tenant_make(klaviyo_sandbox, SHOP_A)
    victim = tenant_make(klaviyo_sandbox, SHOP_B, marker_email=B_MARKERS[0],
                         marker_title=B_MARKERS[1])
    assert WaitlistImport.objects.filter(shop=victim.shop).exists()
    return attacker, victim


def _path_to_shop(model: type[models.Model]) -> str | None:
    """The shortest foreign-key path from `model` to Shop (`shop`, `subscription__shop`, …)."""
    queue: deque[tuple[type[models.Model], str, int]] = deque([(model, "", 0)])
    while queue:
        current, prefix, depth = queue.popleft()
        if current is Shop:
            return prefix.rstrip("_") or "pk"
        if depth == 3:
            continue
        for f in current._meta.concrete_fields:
            if isinstance(f, models.ForeignKey):
                queue.append((f.related_model, f"{prefix}{f.name}__", depth + 1))
    return None


def shop_snapshot(shop: Shop) -> dict[str, str]:
    """Every row of every model that belongs to `shop` (through at most three foreign keys),
    as JSON text per model; models that belong to no shop are taken whole."""
    snapshot = {}
    for model in apps.get_models():
        if not model._meta.managed:  # views and third-party dashboards without a table
            continue
        path = _path_to_shop(model)
        rows = model._default_manager.all()
        if path == "pk":
            rows = rows.filter(pk=shop.pk)
        elif path is not None:
            rows = rows.filter(**{path: shop})
        snapshot[model._meta.label_lower] = json.dumps(
            list(rows.order_by("pk").values()), default=str, sort_keys=True)
    return snapshot


def url_routes() -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern the project serves, as (full route, pattern)."""

    def walk(resolver: URLResolver, prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry, prefix + str(entry.pattern))
            else:
                yield prefix + str(entry.pattern), entry

    yield from walk(get_resolver(), "")
