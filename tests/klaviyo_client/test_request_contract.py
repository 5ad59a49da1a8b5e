"""Every body the client sends matches Klaviyo's own request schemas.

Checked twice: against the official OpenAPI spec (`../shared/klaviyo/stable.json`, skipped when
the file is absent) and against the official `klaviyo-api` package's generated models, which
work on any machine. Nothing is sent anywhere: a transport adapter captures the request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from integrations.klaviyo.client import BulkEvent, KlaviyoClient
from sandboxes.klaviyo.model_validation import model_validator
from sandboxes.klaviyo.spec import load_spec
from sandboxes.klaviyo.validation import validator_for


class CapturingAdapter(BaseAdapter):
    """Answers every request with 202 and keeps the prepared request."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        response = requests.Response()
        response.status_code = 202
        response.headers["Content-Type"] = "application/vnd.api+json"
        response._content = json.dumps({"data": {"type": "x", "id": "01JOB"}}).encode()
        response.request = request
        return response

    def close(self) -> None:
        pass


PROFILE = {
    "email": "shopper@example.com",
    "phone_number": "+14155550123",
    "external_id": "7390123",
    "first_name": "Ada",
    "locale": "en-US",
    "properties": {"notifyme_last_requested_product": "Linen Shirt"},
}
CONSENT_PROFILE = {
    "email": "shopper@example.com",
    "phone_number": "+14155550123",
    "subscriptions": {
        "email": {"marketing": {"consent": "SUBSCRIBED",
                                "consented_at": "2026-11-23T10:00:00+00:00"}},
        "sms": {"marketing": {"consent": "SUBSCRIBED",
                              "consented_at": "2026-11-23T10:00:00+00:00"}},
    },
}
UNSUBSCRIBE_PROFILE = {
    "email": "shopper@example.com",
    "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}},
}
EVENT_PROFILE = {"email": "shopper@example.com", "phone_number": "+14155550123"}
PROFILE_ID = "01GDDKASAP8TKDDA2GRZDSVP4H"
PROPERTIES = {"product_title": "Linen Shirt", "variant_title": "Large", "price": "49.00"}

CALLS: list[tuple[str, Callable[[KlaviyoClient], Any]]] = [
    ("ProfileUpsertQuery", lambda c: c.upsert_profile(PROFILE)),
    ("ProfileUpsertQuery", lambda c: c.upsert_profile(PROFILE, profile_id=PROFILE_ID)),
    ("ProfilePartialUpdateQuery",
     lambda c: c.update_profile(PROFILE_ID, {"email": "new@example.com"})),
    ("ProfileImportJobCreateQuery",
     lambda c: c.bulk_import_profiles([PROFILE, {"email": "b@example.com"}], list_id="Y6nRLr")),
    ("ListMembersAddQuery",
     lambda c: c.add_profiles_to_list("Y6nRLr", [PROFILE_ID])),
    ("ListMembersDeleteQuery",
     lambda c: c.remove_profiles_from_list("Y6nRLr", [PROFILE_ID])),
    ("ListCreateQuery", lambda c: c.create_list("Back in Stock")),
    ("SubscriptionCreateJobCreateQuery",
     lambda c: c.bulk_subscribe([CONSENT_PROFILE], list_id="Y6nRLr", custom_source="notifyme")),
    ("SubscriptionDeleteJobCreateQuery",
     lambda c: c.bulk_unsubscribe([UNSUBSCRIBE_PROFILE], list_id="Y6nRLr")),
    ("EventCreateQueryV2",
     lambda c: c.create_event(metric="Back in Stock", profile=EVENT_PROFILE, properties=PROPERTIES,
                              unique_id="notifyme:bis:1:1", time_iso="2026-11-23T10:00:00+00:00")),
    ("EventsBulkCreateJob",
     lambda c: c.bulk_create_events([
         BulkEvent("Back in Stock", EVENT_PROFILE, PROPERTIES, "notifyme:bis:1:1"),
         BulkEvent("Back in Stock", {"email": "b@example.com"}, PROPERTIES, "notifyme:bis:1:2",
                   time_iso="2026-11-23T10:00:00+00:00",
                   own_properties={"cancel_alert_url": "https://s.myshopify.com/apps/x?token=t"}),
     ])),
]


def _captured_body(call: Callable[[KlaviyoClient], Any]) -> Any:
    session = requests.Session()
    adapter = CapturingAdapter()
    session.mount("http://", adapter)
    client = KlaviyoClient("pk_" + "0" * 34, base_url="http://klaviyo.invalid", session=session)
    call(client)
    (request,) = adapter.sent
    assert request.headers["revision"] == "2026-07-15"
    assert request.headers["Content-Type"] == "application/vnd.api+json"
    assert request.body is not None
    return json.loads(request.body)


CALL_IDS = [f"{schema}-{index}" for index, (schema, _) in enumerate(CALLS)]
Call = Callable[[KlaviyoClient], Any]


@pytest.mark.parametrize(("schema", "call"), CALLS, ids=CALL_IDS)
def test_body_matches_the_official_models(schema: str, call: Call) -> None:
    model_validator(schema)(_captured_body(call))


@pytest.mark.parametrize(("schema", "call"), CALLS, ids=CALL_IDS)
def test_body_matches_the_openapi_spec(schema: str, call: Call) -> None:
    if load_spec() is None:
        pytest.skip("Klaviyo's stable.json is not beside the checkout")
    validator_for(schema)(_captured_body(call))


def test_an_undeclared_attribute_is_caught_by_both_checks() -> None:
    body = _captured_body(lambda c: c.upsert_profile({**PROFILE, "shoe_size": 9}))
    with pytest.raises(Exception, match="shoe_size"):
        model_validator("ProfileUpsertQuery")(body)
    if load_spec() is not None:
        with pytest.raises(Exception):  # noqa: B017 - the sandbox's ApiError
            validator_for("ProfileUpsertQuery")(body)


def test_bulk_events_body_is_each_events_own_json() -> None:
    """The hand-assembled bulk body (shared properties serialized once per call, an event's own
    properties spliced in) says exactly what each event's `as_json()` says."""
    events = [
        BulkEvent("Back in Stock", EVENT_PROFILE, PROPERTIES, "notifyme:bis:1:1"),
        BulkEvent("Back in Stock", {"email": "b@example.com"}, PROPERTIES, "notifyme:bis:1:2",
                  own_properties={"cancel_alert_url": "https://s.myshopify.com/a?token=t"}),
        BulkEvent("Back in Stock", {"email": "c@example.com"}, {}, "notifyme:bis:1:3",
                  time_iso="2026-11-23T10:00:00+00:00", own_properties={"n": 1}),
        BulkEvent("Other metric", {"email": "d@example.com"}, {**PROPERTIES, "sku": "B"},
                  "notifyme:bis:1:4"),
        BulkEvent("Back in Stock", {"email": "e@example.com"}, PROPERTIES, "notifyme:bis:1:5"),
    ]
    body = _captured_body(lambda c: c.bulk_create_events(events))
    sent = body["data"]["attributes"]["events-bulk-create"]["data"]
    assert sent == [event.as_json() for event in events]
    assert sent[1]["attributes"]["events"]["data"][0]["attributes"]["properties"] == {
        **PROPERTIES, "cancel_alert_url": "https://s.myshopify.com/a?token=t"}
