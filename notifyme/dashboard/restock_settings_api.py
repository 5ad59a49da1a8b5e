"""`GET/POST /app/api/restocks/settings`: how the shop's restocks start and send.

A merchant endpoint (`merchant_endpoint`: Bearer ID token → the shop, JSON errors, JSON 405).
POST takes any subset of the fields below and changes them through
`restocks.services.restock_settings_update` (one locked, validated write: all or nothing); a
bad value is a 400 naming its field, and nothing is written. Which locations' stock counts is
`/app/api/locations` (catalog), shown on the same page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse

from notifyme.core.http import InputError, fields_only, json_object_read
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.restocks.models import RestockSettings
from notifyme.restocks.services import restock_settings_get, restock_settings_update
from notifyme.shops.auth import EmbeddedRequest


@dataclass(frozen=True)
class Bound:
    low: int
    high: int
    sentence: str  # what the number is, for the error message


#: The whole-number settings and the range a merchant may choose (a week of cool-down at most
#: would be too short for some shops: a year is the ceiling).
NUMBERS = {
    "threshold": Bound(1, 100_000, "the stock that counts as back in stock"),
    "cooldown_hours": Bound(0, 8_760, "hours before a shopper can be alerted again"),
    "subscribers_per_unit": Bound(1, 1_000, "subscribers alerted per unit in stock"),
    "batch_interval_minutes": Bound(1, 1_440, "minutes between batches"),
}
FIELDS = ("threshold", "cooldown_hours", "send_mode", "subscribers_per_unit",
          "batch_interval_minutes")


def restock_settings_json(settings: RestockSettings) -> dict[str, Any]:
    return {
        "threshold": settings.threshold, "cooldown_hours": settings.cooldown_hours,
        "send_mode": settings.send_mode,
        "send_modes": [{"value": value, "label": label}
                       for value, label in RestockSettings.SendMode.choices],
        "subscribers_per_unit": settings.subscribers_per_unit,
        "batch_interval_minutes": settings.batch_interval_minutes,
    }


def _number(name: str, value: Any) -> int:
    bound = NUMBERS[name]
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())  # a form's number field arrives as text
    if isinstance(value, bool) or not isinstance(value, int) or not (
            bound.low <= value <= bound.high):
        raise InputError.for_field(
            name, f"{name} ({bound.sentence}) must be a whole number from "
                  f"{bound.low:,} to {bound.high:,}.")
    return value


def settings_changes(data: dict[str, Any]) -> dict[str, Any]:
    """The validated changes of a POST body (InputError names the first bad field)."""
    fields_only(data, FIELDS)
    changes: dict[str, Any] = {}
    for name, value in data.items():
        if name == "send_mode":
            if value not in RestockSettings.SendMode.values:
                choices = ", ".join(RestockSettings.SendMode.values)
                raise InputError.for_field(name, f"send_mode must be one of: {choices}.")
            changes[name] = value
        else:
            changes[name] = _number(name, value)
    if not changes:
        raise InputError(400, "invalid_request", f"Send at least one of: {', '.join(FIELDS)}.")
    return changes


@merchant_endpoint("GET", "POST")
def restock_settings(request: EmbeddedRequest) -> HttpResponse:
    if request.method == "POST":
        changes = settings_changes(json_object_read(request))
        try:
            saved = restock_settings_update(shop=request.shop, **changes)
        except ValidationError as error:  # the model's own checks, should ours ever lag
            name, messages = next(iter(error.message_dict.items()))
            raise InputError.for_field(name, " ".join(messages)) from None
        return JsonResponse(restock_settings_json(saved))
    return JsonResponse(restock_settings_json(restock_settings_get(shop=request.shop)))
