"""`GET/POST /app/api/locations`: which locations' stock counts for back-in-stock alerts.

A merchant endpoint like every /app/api one (`merchant_endpoint`: Bearer ID token → the shop,
JSON errors, JSON 405); the shop comes from the token, never from the URL, so a shop can only
see and choose among its own locations. Ids are strings (Shopify's exceed 2**53).

- GET → `catalog.selectors.locations_list` (mode, the chosen ids or null, every location with
  `counts_for_alerts`).
- POST `{"location_ids": ["<id>", …] | null}` → `shop_alert_locations_set` (null: the default,
  active locations that fulfil online orders), then the same document as GET. 400 naming
  `location_ids` for anything else, an empty list, or an id that is not the shop's.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse
from django.urls import path

from notifyme.catalog.selectors import locations_list
from notifyme.catalog.services import AlertLocationsError, shop_alert_locations_set
from notifyme.core.http import InputError, fields_only, json_object_read
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.shops.auth import EmbeddedRequest

FIELD = "location_ids"
MAX_LOCATIONS = 1000


def _ids(value: Any) -> list[int] | None:
    if value is None:
        return None
    message = f"{FIELD} must be null or a list of location ids (strings of digits)."
    if not isinstance(value, list) or len(value) > MAX_LOCATIONS:
        raise InputError.for_field(FIELD, message)
    ids = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise InputError.for_field(FIELD, message)
        text = str(item)
        if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) == 0:
            raise InputError.for_field(FIELD, message)
        ids.append(int(text))
    return ids


@merchant_endpoint("GET", "POST")
def locations(request: EmbeddedRequest) -> HttpResponse:
    if request.method == "POST":
        data = json_object_read(request)
        fields_only(data, (FIELD,))
        if FIELD not in data:
            raise InputError.for_field(FIELD, f"{FIELD} is required (a list of ids, or null).")
        try:
            shop_alert_locations_set(shop=request.shop, location_ids=_ids(data[FIELD]))
        except AlertLocationsError as error:
            raise InputError.for_field(error.field, str(error)) from None
    return JsonResponse(locations_list(shop=request.shop))


urlpatterns = [path("", locations, name="api_locations")]
