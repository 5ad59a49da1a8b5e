"""The fast path for 1,000-event bodies says byte for byte what the plain builders say.

`bodies.encode_bulk_events*` fill templates instead of building a dict per event; whatever the
events look like, the bytes must be `encode(bulk_events(...))`'s. The plain builders' shapes
are checked against Klaviyo's schemas by test_production_requests.py (bodies production sent).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import orjson
import pytest

from integrations.klaviyo import bodies
from integrations.klaviyo.bodies import BulkEvent
from tests.klaviyo_client import schemas

ODD = ["", "plain", 'quote " and \\ backslash', "ünïcødé ✓ 🚀", "\u2028 line sep", "</script>",
       "\x00notifyme-hole-0\x00", "\x00notifyme-hole-1\x00", "{\"a\": 1}", "tab\tnew\nline"]


def _properties(rng: random.Random) -> dict[str, object]:
    return {f"k{n}": rng.choice([*ODD, 1, 0, -7, True, False, None, [1, "x"], {"n": "y"}])
            for n in range(rng.randint(0, 6))}


def _events(seed: int, count: int = 60) -> list[BulkEvent]:
    rng = random.Random(seed)
    shared = [_properties(rng) for _ in range(3)]
    events = []
    for n in range(count):
        own: dict[str, object] = {}
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            own[rng.choice(["cancel_alert_url", "k0", "k1", "extra"])] = rng.choice(ODD)
        profile: dict[str, object] = {"email": f"{rng.choice(ODD)}{n}@shop.test"}
        if rng.random() < 0.4:
            profile["phone_number"] = "+14155550123"
        events.append(BulkEvent(
            metric=rng.choice(["Back in Stock", "Subscribed to Back in Stock", rng.choice(ODD)]),
            profile=profile, properties=rng.choice(shared), unique_id=f"id:{n}:{rng.choice(ODD)}",
            time_iso=rng.choice([None, "2026-11-23T10:00:00+00:00"]), own_properties=own))
    return events


@pytest.mark.parametrize("seed", range(40))
def test_fast_bulk_events_are_the_plain_bodies_bytes(seed: int) -> None:
    events = _events(seed)
    assert bodies.encode_bulk_events(events) == bodies.encode(bodies.bulk_events(events))


@pytest.mark.parametrize("seed", range(20))
def test_fast_shared_bulk_events_are_the_plain_bodies_bytes(seed: int) -> None:
    rng = random.Random(seed)
    properties = _properties(rng)
    metric = rng.choice(["Back in Stock", *ODD])
    recipients = [({"email": f"s{n}{rng.choice(ODD)}@x.test"}, f"bis:{n}:{rng.choice(ODD)}")
                  for n in range(rng.randint(1, 30))]
    fast = bodies.encode_bulk_events_shared(metric=metric, properties=properties,
                                            recipients=recipients)
    plain = bodies.bulk_events_shared(metric=metric, properties=properties,
                                      recipients=recipients)
    assert fast == bodies.encode(plain)


def test_an_events_entry_says_what_its_as_json_says() -> None:
    events = _events(7, count=10)
    sent = orjson.loads(bodies.encode_bulk_events(events))
    assert sent["data"]["attributes"]["events-bulk-create"]["data"] == [
        e.as_json() for e in events]


def test_an_undeclared_attribute_is_caught_by_both_checks() -> None:
    body = bodies.profile_import({"email": "ann@shop.test", "shoe_size": 9})
    assert any("shoe_size" in p for p in schemas.model_problems("ProfileUpsertQuery", body))
    assert schemas.model_problems("ProfileUpsertQuery", bodies.profile_import(
        {"email": "ann@shop.test"})) == []
    if schemas.spec() is not None:
        assert any("shoe_size" in p for p in schemas.spec_problems("ProfileUpsertQuery", body))


def test_properties_dicts_made_and_dropped_one_by_one_get_their_own_templates() -> None:
    """A generator's fresh dict per event: a freed dict's id is soon another's."""
    def events() -> Iterator[BulkEvent]:
        for n in range(500):
            yield BulkEvent("Back in Stock", {"email": f"s{n}@x.test"}, {"n": n}, f"id:{n}")

    assert bodies.encode_bulk_events(events()) == bodies.encode(bodies.bulk_events(events()))
