"""Request-body cost: the JSON splicing the client used to do vs plain dicts + one orjson call.

Builds and serializes, the way production does, (1) a 1,000-event Bulk Create Events body for
one restock (fan-out: shared properties, one profile and unique_id per subscriber), (2) a
1,000-event body of "Subscribed to Back in Stock" events (sync: shared product properties plus
each event's own cancel link and time) and (3) a 10,000-profile bulk import body, including the
per-profile serialization that sizes the job under Klaviyo's 5 MB cap. Prints µs per body (CPU
time of this process, every run, the best and the median) for the old splice, the plain
serializer and, for event bodies, the client's fast path, and the ceiling they are held to: the
splice's best + 5 %. The client uses the plain serializer where it is within the ceiling and
the fast path otherwise; the bench fails when the way used is over it. All produce the same
JSON (checked before timing). CPU only: no database, no network.

    .venv/bin/python bench/bodies.py [--runs 7] [--repeat 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.klaviyo import bodies
from integrations.klaviyo.bodies import BulkEvent

CEILING = 1.05  # the plain serializer may cost at most 5 % more than the splice

# -- the splice the client used before (kept here only to compare against) --------------------


def _j(value: Any) -> str:
    return orjson.dumps(value).decode()


def splice_shared(metric: str, properties: dict[str, Any],
                  recipients: list[tuple[dict[str, Any], str]]) -> bytes:
    tail = (',"events":{"data":[{"type":"event","attributes":{"properties":' + _j(properties)
            + ',"metric":{"data":{"type":"metric","attributes":{"name":' + _j(metric)
            + '}}},"unique_id":')
    entries = ['{"type":"event-bulk-create","attributes":{"profile":{"data":{"type":"profile",'
               '"attributes":' + _j(profile) + "}}" + tail + _j(unique_id) + "}}]}}}"
               for profile, unique_id in recipients]
    return ('{"data":{"type":"event-bulk-create-job","attributes":{"events-bulk-create":'
            '{"data":[' + ",".join(entries) + "]}}}}").encode()


def _splice_event(event: BulkEvent, heads: dict[int, tuple[dict[str, Any], str]],
                  metrics: dict[str, str]) -> str:
    shared = event.properties
    head = heads.get(id(shared))
    if head is None or head[0] is not shared:
        head = heads[id(shared)] = (shared, _j(shared))
    properties = head[1]
    metric = metrics.get(event.metric)
    if metric is None:
        metric = metrics[event.metric] = (',"metric":{"data":{"type":"metric","attributes":'
                                          '{"name":' + _j(event.metric) + "}}}")
    if event.own_properties:
        own = _j(event.own_properties)
        properties = own if properties == "{}" else properties[:-1] + "," + own[1:]
    tail = ',"unique_id":' + _j(event.unique_id)
    if event.time_iso:
        tail += ',"time":' + _j(event.time_iso)
    return ('{"type":"event-bulk-create","attributes":{"profile":{"data":{"type":"profile",'
            '"attributes":' + _j(event.profile) + '}},"events":{"data":[{"type":"event",'
            '"attributes":{"properties":' + properties + metric + tail + "}}]}}}")


def splice_events(events: list[BulkEvent]) -> bytes:
    heads: dict[int, tuple[dict[str, Any], str]] = {}
    metrics: dict[str, str] = {}
    entries = [_splice_event(event, heads, metrics) for event in events]
    return ('{"data":{"type":"event-bulk-create-job","attributes":{"events-bulk-create":'
            '{"data":[' + ",".join(entries) + "]}}}}").encode()


def splice_import(profiles: list[dict[str, Any]], list_id: str) -> bytes:
    encoded = [_j(p) for p in profiles]  # production: once per row, to size the job
    _size = sum(len(p) + 60 for p in encoded)
    relationships = (',"relationships":{"lists":{"data":[{"type":"list","id":' + _j(list_id)
                     + "}]}}")
    return ('{"data":{"type":"profile-bulk-import-job","attributes":{"profiles":{"data":['
            + ",".join('{"type":"profile","attributes":' + p + "}" for p in encoded)
            + "]}}" + relationships + "}}").encode()


# -- what the client does now -------------------------------------------------------------------


def plain_shared(metric: str, properties: dict[str, Any],
                 recipients: list[tuple[dict[str, Any], str]]) -> bytes:
    return bodies.encode(bodies.bulk_events_shared(metric=metric, properties=properties,
                                                   recipients=recipients))


def plain_events(events: list[BulkEvent]) -> bytes:
    return bodies.encode(bodies.bulk_events(events))


def fast_shared(metric: str, properties: dict[str, Any],
                recipients: list[tuple[dict[str, Any], str]]) -> bytes:
    return bodies.encode_bulk_events_shared(metric=metric, properties=properties,
                                            recipients=recipients)


def fast_events(events: list[BulkEvent]) -> bytes:
    return bodies.encode_bulk_events(events)


def plain_import(profiles: list[dict[str, Any]], list_id: str) -> bytes:
    _size = sum(bodies.encoded_size(p) + 60 for p in profiles)  # production sizes each row
    return bodies.encode(bodies.profile_bulk_import(profiles, list_id=list_id))


# -- inputs shaped like production's ------------------------------------------------------------


def restock_properties() -> dict[str, Any]:
    return {"product_title": "Linen Shirt", "variant_title": "Large / Sand", "price": "49.00",
            "currency": "USD", "image_url": "https://cdn.shopify.com/s/files/1/linen-shirt.jpg",
            "product_url": "https://demo-shop.myshopify.com/products/linen-shirt?variant=4001",
            "quantity_available": 25, "shop_name": "Demo Shop", "sku": "LS-L-SAND",
            "variant_id": 4001, "product_id": 9001, "restock_id": 77}


def fanout_recipients(n: int) -> list[tuple[dict[str, Any], str]]:
    out = []
    for i in range(n):
        profile: dict[str, Any] = {"email": f"shopper{i}@example.com"}
        if i % 3 == 0:
            profile["phone_number"] = f"+1415555{i % 10000:04d}"
        if i % 5 == 0:
            profile["external_id"] = str(7_390_000 + i)
        out.append((profile, f"notifyme:bis:77:{i}"))
    return out


def sync_events(n: int) -> list[BulkEvent]:
    product = {**restock_properties(), "quantity_wanted": 1, "source": "storefront",
               "shop_domain": "demo-shop.myshopify.com"}
    return [BulkEvent("Subscribed to Back in Stock", {"email": f"shopper{i}@example.com"},
                      product, f"notifyme:subscribed:{i}",
                      time_iso="2026-11-23T10:00:00.123456+00:00",
                      own_properties={"cancel_alert_url": "https://demo-shop.myshopify.com/apps/"
                                      f"notifyme/unsubscribe?token=tok{i:08d}abcdefghijklmnop"})
            for i in range(n)]


def import_profiles(n: int) -> list[dict[str, Any]]:
    last = {"notifyme_back_in_stock": True, "notifyme_last_product_title": "Linen Shirt",
            "notifyme_last_variant_title": "Large / Sand", "notifyme_last_product_id": 9001,
            "notifyme_last_variant_id": 4001,
            "notifyme_last_product_url": "https://demo-shop.myshopify.com/products/linen-shirt",
            "notifyme_source": "storefront"}
    return [{"email": f"shopper{i}@example.com", "phone_number": f"+1415555{i % 10000:04d}",
             "first_name": "Ann", "locale": "en-US", "external_id": str(7_390_000 + i),
             "properties": last} for i in range(n)]


def _runs(fn: Callable[[], bytes], runs: int, repeat: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.process_time()
        for _ in range(repeat):
            fn()
        out.append((time.process_time() - started) / repeat * 1e6)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    recipients, events, profiles = fanout_recipients(1000), sync_events(1000), import_profiles(
        10_000)
    props = restock_properties()
    cases: list[tuple[str, int, dict[str, Callable[[], bytes]]]] = [
        ("1,000 restock events (fan-out)", args.repeat, {
            "splice": lambda: splice_shared("Back in Stock", props, recipients),
            "plain": lambda: plain_shared("Back in Stock", props, recipients),
            "fast path": lambda: fast_shared("Back in Stock", props, recipients)}),
        ("1,000 subscribed events (sync)", args.repeat, {
            "splice": lambda: splice_events(events), "plain": lambda: plain_events(events),
            "fast path": lambda: fast_events(events)}),
        ("10,000-profile import (sized)", max(1, args.repeat // 10), {
            "splice": lambda: splice_import(profiles, "Y6nRLr"),
            "plain": lambda: plain_import(profiles, "Y6nRLr")}),
    ]
    failed = False
    for name, repeat, ways in cases:
        expected = orjson.loads(ways["plain"]())
        for way, build in ways.items():
            assert orjson.loads(build()) == expected, f"{name}: {way} differs from plain"
        timings: dict[str, list[float]] = {way: [] for way in ways}
        for _ in range(args.runs):  # interleaved, so machine load drifts hit every way alike
            for way, build in ways.items():
                timings[way] += _runs(build, 1, repeat)
        ceiling = min(timings["splice"]) * CEILING
        print(f"{name}: ceiling {ceiling:,.0f} µs (the splice's best + 5 %)")
        for way, values in timings.items():
            mark = "" if way == "splice" else (
                "  within" if min(values) <= ceiling else "  OVER")
            print(f"  {way:>9}: best {min(values):7,.0f} µs, median "
                  f"{statistics.median(values):7,.0f} µs{mark}  (runs: "
                  f"{', '.join(f'{v:,.0f}' for v in values)})")
        used = "plain" if min(timings["plain"]) <= ceiling else "fast path"
        failed |= used not in timings or min(timings[used]) > ceiling
        print(f"  -> {used}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
