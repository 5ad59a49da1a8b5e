"""Events: metrics by name, unique_id dedup (first wins), bulk limits and duplicate rejection."""

from __future__ import annotations

from .conftest import Api, bulk_events_body, error_of, event_body


def test_event_creates_metric_and_profile(api: Api) -> None:
    r = api.call("POST", "/api/events",
                 event_body("Back in Stock", {"email": "e@shop.test"}, "bis:1:1", sku="S1"))
    assert r.status_code == 202
    assert r.content == b""
    [event] = api.sandbox.admin.events(api.account_id, metric="Back in Stock")
    assert event["unique_id"] == "bis:1:1"
    assert event["properties"] == {"sku": "S1"}
    [profile] = api.sandbox.admin.profiles(api.account_id)
    assert event["profile_id"] == profile["id"]
    metrics = api.call("GET", "/api/metrics").json()["data"]
    assert [m["attributes"]["name"] for m in metrics] == ["Back in Stock"]


def test_duplicate_unique_id_first_wins(api: Api) -> None:
    first = event_body("Back in Stock", {"email": "d@shop.test"}, "bis:1:2", sku="first")
    second = event_body("Back in Stock", {"email": "d@shop.test"}, "bis:1:2", sku="second")
    assert api.call("POST", "/api/events", first).status_code == 202
    assert api.call("POST", "/api/events", second).status_code == 202  # dropped silently
    other_metric = event_body("Other", {"email": "d@shop.test"}, "bis:1:2")
    assert api.call("POST", "/api/events", other_metric).status_code == 202
    events = api.sandbox.admin.events(api.account_id, metric="Back in Stock")
    assert [e["properties"]["sku"] for e in events] == ["first"]
    stats = api.sandbox.admin.stats(api.account_id)
    assert stats["duplicates_dropped"] == 1
    assert stats["events"] == 2


def test_event_needs_identifier_and_metric_name(api: Api) -> None:
    r = api.call("POST", "/api/events", event_body("Back in Stock", {"first_name": "x"}))
    assert r.status_code == 400
    r = api.call("POST", "/api/events", event_body("x" * 128, {"email": "m@shop.test"}))
    assert r.status_code == 400
    assert error_of(r)["source"]["pointer"].endswith("/metric/data/attributes/name")


def test_event_limits_properties_and_time(api: Api) -> None:
    many = {f"p{i}": i for i in range(401)}
    r = api.call("POST", "/api/events", event_body("M", {"email": "l@shop.test"}, **many))
    assert r.status_code == 400
    body = event_body("M", {"email": "l@shop.test"})
    body["data"]["attributes"]["time"] = "1985-01-01T00:00:00+00:00"
    assert api.call("POST", "/api/events", body).status_code == 400


def test_event_profile_meta_lives_under_attributes(api: Api) -> None:
    body = event_body("M", {"email": "meta@shop.test"})
    body["data"]["attributes"]["profile"]["data"]["meta"] = {}
    assert api.call("POST", "/api/events", body).status_code == 400


def test_bulk_events(api: Api) -> None:
    entries = [({"email": f"b{i}@shop.test"},
                [{"metric": "Back in Stock", "unique_id": f"bis:{i}"}]) for i in range(5)]
    r = api.call("POST", "/api/event-bulk-create-jobs", bulk_events_body(entries))
    assert r.status_code == 202
    assert api.sandbox.admin.stats(api.account_id)["events"] == 5
    # a later request repeating a unique_id is accepted and the event dropped
    r = api.call("POST", "/api/event-bulk-create-jobs", bulk_events_body(entries[:2]))
    assert r.status_code == 202
    stats = api.sandbox.admin.stats(api.account_id)
    assert (stats["events"], stats["duplicates_dropped"]) == (5, 2)


def test_bulk_duplicate_unique_id_in_one_request_rejects_all(api: Api) -> None:
    entries = [({"email": "x@shop.test"}, [{"metric": "BIS", "unique_id": "u1"}]),
               ({"email": "y@shop.test"}, [{"metric": "BIS", "unique_id": "u2"}]),
               ({"email": "X@shop.test"}, [{"metric": "BIS", "unique_id": "u1"}])]
    r = api.call("POST", "/api/event-bulk-create-jobs", bulk_events_body(entries))
    assert r.status_code == 400
    assert "unique_id" in error_of(r)["source"]["pointer"]
    assert api.sandbox.admin.stats(api.account_id)["events"] == 0
    assert api.sandbox.admin.profiles(api.account_id) == []


def test_bulk_events_limit_1000(api: Api) -> None:
    entries = [({"email": f"c{i}@shop.test"}, [{"metric": "BIS", "unique_id": f"{i}:a"},
                                               {"metric": "BIS", "unique_id": f"{i}:b"}])
               for i in range(501)]
    r = api.call("POST", "/api/event-bulk-create-jobs", bulk_events_body(entries))
    assert r.status_code == 400
    assert "1000" in error_of(r)["detail"]
    r = api.call("POST", "/api/event-bulk-create-jobs", bulk_events_body(entries[:500]))
    assert r.status_code == 202
    assert api.sandbox.admin.stats(api.account_id)["events"] == 1000


def test_bulk_events_point_at_the_bad_record(api: Api) -> None:
    """A bulk request is rejected whole, and the error points at the entry and event at fault
    (the sync engine fails that subscriber alone and resends the rest)."""
    base = "/data/attributes/events-bulk-create/data"
    good = [({"email": f"p{i}@shop.test"}, [{"metric": "BIS", "unique_id": f"p{i}"}])
            for i in range(3)]
    cases = [
        (({"email": "not-an-email"}, [{"metric": "BIS"}]),
         f"{base}/3/attributes/profile/data/attributes/email"),
        (({"phone_number": "555"}, [{"metric": "BIS"}]),
         f"{base}/3/attributes/profile/data/attributes/phone_number"),
        (({"first_name": "Nobody"}, [{"metric": "BIS"}]),
         f"{base}/3/attributes/profile/data/attributes"),
        (({"email": "q@shop.test"}, [{"metric": "BIS"}, {"metric": "x" * 128}]),
         f"{base}/3/attributes/events/data/1/attributes/metric/data/attributes/name"),
        (({"email": "q@shop.test"}, [{"metric": "BIS", "properties": {"note": "x" * 102_401}}]),
         f"{base}/3/attributes/events/data/0/attributes/properties/note"),
    ]
    for bad, pointer in cases:
        r = api.call("POST", "/api/event-bulk-create-jobs", bulk_events_body([*good, bad]))
        assert r.status_code == 400, (pointer, r.text[:300])
        assert error_of(r)["source"]["pointer"] == pointer
    assert api.sandbox.admin.stats(api.account_id)["events"] == 0
