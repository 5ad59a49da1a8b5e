"""The Klaviyo flow panel: is a live flow sending the Back in Stock emails, what a template can
use, how to build the flow, and "Create the flow for me" (`integrations.klaviyo.flows`).

- `GET /app/api/klaviyo/flow` → the panel fragment (HTML), from the stored check: no Klaviyo
  call when the page or the fragment loads.
- `POST /app/api/klaviyo/flow/check` `{}` → checks now, 200 `{"flow": <state>}`.
- `POST /app/api/klaviyo/flow/create` `{}` → creates the ready flow (a draft), 201 `{"flow":
  <state>}`; 422 `flow_scope_missing` / `flow_no_metric` / `flow_create_failed` /
  `not_connected` with the sentence.
Merchant endpoints like every /app/api one: the shop comes from the ID token, never the URL.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from integrations.klaviyo.flows import (
    CREATE_SCOPE,
    FLOW_NAME,
    FlowCreateRefused,
    can_create,
    flow_check,
    flow_create,
    missing_check_scopes,
)
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.scopes import ConnectionRefused
from notifyme.catalog.facts import product_facts
from notifyme.catalog.models import Variant
from notifyme.core.http import fields_only, json_error, json_object_read
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.shops.auth import EmbeddedRequest
from notifyme.shops.models import Shop

State = KlaviyoConnection.FlowState

#: One sentence per state: what it means for the shopper's email, and what to do.
STATE_SENTENCES: dict[str, str] = {
    State.LIVE: "A live flow in Klaviyo is triggered by the Back in Stock event: each restock "
                "alert becomes an email.",
    State.NOT_LIVE: "A flow uses the Back in Stock event, but none is live, so no email goes "
                    "out. Open it in Klaviyo, review the email and set the flow live.",
    State.NO_FLOW: "Klaviyo receives your Back in Stock events, but no flow uses them, so no "
                   "email goes out. Create the flow below, or build it with the steps.",
    State.NO_METRIC: "No restock alert has reached Klaviyo yet, so it does not know the Back "
                     "in Stock event. Build the flow after your first restock; until then no "
                     "email can go out.",
    State.NO_SCOPE: "This key cannot read your flows, so the app cannot tell whether emails go "
                    "out. To let it check, reconnect with a key that also has {scopes}.",
    State.UNAVAILABLE: "Klaviyo did not answer the flow check. Check again in a minute.",
    "": "Not checked yet.",
}

#: The event's properties a flow template uses, what each is (`notifyme.restocks.events`).
PROPERTIES: tuple[tuple[str, str], ...] = (
    ("product_title", "the product's title"),
    ("variant_title", "the variant's title (size, colour)"),
    ("price", "the variant's price"),
    ("currency", "your store's currency"),
    ("image_url", "the variant's (or product's) image"),
    ("product_url", "the product page with the variant selected, tagged for revenue tracking"),
    ("quantity_available", "how many are in stock now"),
    ("sku", "the variant's SKU"),
    ("shop_name", "your store's name"),
    ("product_id", "Shopify's product id"),
    ("variant_id", "Shopify's variant id"),
    ("restock_id", "the app's restock number"),
)

STEPS: tuple[str, ...] = (
    "In Klaviyo, open Flows → Create flow → Build your own, and name it “Back in Stock”.",
    "Choose the trigger Metric, then the metric “Back in Stock” (it exists after the first "
    "restock alert).",
    "Add an Email action. Write the subject and the email with the properties below, for "
    "example the subject “{{ event.product_title }} is back in stock” and a button to "
    "{{ event.product_url }}.",
    "In the email's settings, consider turning Smart Sending off: a shopper waiting for two "
    "products should hear about both.",
    "Set the email to Live, then the flow to Live.",
    "Come back here and press Check again: the panel says “A live flow sends the emails”.",
)


def _sample(shop: Shop) -> dict[str, Any]:
    """The properties of a real variant of the shop as one restock would send them."""
    variant = (Variant.objects.select_related("product")
               .filter(shop=shop, removed_at__isnull=True).order_by("pk").first())
    if variant is None:
        return {}
    return {**product_facts(variant, shop), "quantity_available": 5, "restock_id": 1}


def flow_state(connection: KlaviyoConnection | None) -> dict[str, Any]:
    """The stored check as the JSON API and the template show it."""
    if connection is None or connection.status == KlaviyoConnection.Status.DISCONNECTED:
        return {"state": "", "connected": False}
    missing = missing_check_scopes(connection)
    state = connection.flow_state
    label = State(state).label if state else "Not checked yet"
    sentence = STATE_SENTENCES[state].format(scopes=" and ".join(missing) or "flows:read")
    return {
        "state": state, "label": label, "sentence": sentence, "connected": True,
        "checked_at": connection.flow_checked_at.isoformat() if connection.flow_checked_at
        else None,
        "flows": list(connection.flow_flows or []),
        "missing_scopes": missing, "can_create": can_create(connection),
        "create_scope": CREATE_SCOPE, "alarm": connection.flow_alarm,
    }


def panel_context(shop: Shop) -> dict[str, Any]:
    connection = KlaviyoConnection.objects.filter(shop=shop).first()
    sample = _sample(shop)
    return {
        "flow": flow_state(connection), "flow_name": FLOW_NAME, "flow_steps": STEPS,
        "flow_properties": [{"name": name, "about": about, "example": sample.get(name, "")}
                            for name, about in PROPERTIES],
    }


def _connection(shop: Shop) -> KlaviyoConnection:
    connection = KlaviyoConnection.objects.select_related("shop").filter(shop=shop).first()
    if connection is None or connection.status == KlaviyoConnection.Status.DISCONNECTED:
        raise ConnectionRefused("not_connected", "Klaviyo is not connected yet: paste your "
                                "private API key to connect.")
    return connection


@merchant_endpoint("GET")
def panel(request: EmbeddedRequest) -> HttpResponse:
    return render(request, "dashboard/_klaviyo_flow.html", panel_context(request.shop))


@merchant_endpoint("POST")
def check(request: EmbeddedRequest) -> HttpResponse:
    fields_only(json_object_read(request), ())
    connection = flow_check(connection=_connection(request.shop))
    return JsonResponse({"flow": flow_state(connection)})


@merchant_endpoint("POST")
def create(request: EmbeddedRequest) -> HttpResponse:
    fields_only(json_object_read(request), ())
    try:
        connection = flow_create(connection=_connection(request.shop))
    except FlowCreateRefused as refused:
        return json_error(422, refused.kind, refused.sentence)
    return JsonResponse({"flow": flow_state(connection)}, status=201)

