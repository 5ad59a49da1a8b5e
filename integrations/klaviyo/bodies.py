"""Request bodies of the Klaviyo operations the client calls: plain dicts and one serializer.

Each builder returns the JSON:API document that Klaviyo's request schema for that operation
describes (the schema's name stands beside the operation in `client.OPERATIONS`); `encode`
turns any of them into the bytes sent. Parts shared by many entries (a restock's properties,
the metric block) are shared as Python objects.

One fast path, for the two 1,000-event bodies only (`encode_bulk_events*`): building a dict per
event costs several times what the JSON costs (bench/bodies.py holds both to a ceiling), so an
entry is encoded once per shape with placeholders where its own values go and then filled
with those values, each encoded by orjson. No JSON structure is written by hand: the text
around the placeholders is orjson's encoding of the plain builder's own dict, and
tests/klaviyo_client/test_bodies.py pins the result to `encode(bulk_events(...))`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

Body = dict[str, Any]


def encode(body: Any) -> bytes:
    """Compact UTF-8 JSON. Non-str keys and unknown types raise TypeError; a NaN would become
    null (body values are strings, ints and booleans: prices are sent as strings)."""
    return orjson.dumps(body)


def encoded_size(value: Any) -> int:
    """Bytes `value` takes inside an encoded body (to size bulk jobs under Klaviyo's cap)."""
    return len(orjson.dumps(value))


@dataclass(frozen=True)
class BulkEvent:
    """One profile and its single event inside a bulk-create-events request.

    `properties` are typically shared by many events of a request (the product), `own_properties`
    belong to this event alone (e.g. a per-subscriber link) and must not repeat a shared name."""

    metric: str
    profile: dict[str, Any]
    properties: dict[str, Any]
    unique_id: str
    time_iso: str | None = None
    own_properties: dict[str, Any] = field(default_factory=dict)

    @property
    def all_properties(self) -> dict[str, Any]:
        return {**self.properties, **self.own_properties} if self.own_properties else (
            self.properties)

    def as_json(self) -> Body:
        """This event's entry in `events-bulk-create.data`."""
        return _bulk_entry(self.profile, self.all_properties, metric_block(self.metric),
                           self.unique_id, self.time_iso)


def metric_block(name: str) -> Body:
    return {"data": {"type": "metric", "attributes": {"name": name}}}


def _bulk_entry(profile: Any, properties: Any, metric: Body, unique_id: str,
                time_iso: str | None) -> Body:
    """One `events-bulk-create` entry (the fast path fills placeholders in its encoding)."""
    event: Body = {"properties": properties, "metric": metric, "unique_id": unique_id}
    if time_iso:
        event["time"] = time_iso
    return {"type": "event-bulk-create", "attributes": {
        "profile": {"data": {"type": "profile", "attributes": profile}},
        "events": {"data": [{"type": "event", "attributes": event}]},
    }}


def _list_relationship(list_id: str) -> Body:
    return {"list": {"data": {"type": "list", "id": list_id}}}


# -- lists and profiles ------------------------------------------------------------------------


def list_create(name: str) -> Body:
    return {"data": {"type": "list", "attributes": {"name": name}}}


def flow_create(*, name: str, metric_id: str, subject: str) -> Body:
    """A flow triggered by the metric `metric_id`, one email action (draft: Klaviyo creates
    flows as drafts; the merchant designs the email and sets it live)."""
    action = {"temporary_id": "back-in-stock-email", "type": "send-email",
              "data": {"status": "draft",
                       "message": {"name": "Back in Stock email", "subject_line": subject,
                                   "smart_sending_enabled": False}}}
    definition = {"triggers": [{"type": "metric", "id": metric_id}],
                  "actions": [action], "entry_action_id": "back-in-stock-email"}
    return {"data": {"type": "flow", "attributes": {"name": name, "definition": definition}}}


def profile_import(attributes: dict[str, Any], *, profile_id: str | None = None) -> Body:
    data: Body = {"type": "profile", "attributes": attributes}
    if profile_id:
        data["id"] = profile_id
    return {"data": data}


def profile_update(profile_id: str, attributes: dict[str, Any]) -> Body:
    return {"data": {"type": "profile", "id": profile_id, "attributes": attributes}}


def profile_bulk_import(profiles: Iterable[dict[str, Any]], *, list_id: str | None) -> Body:
    data: Body = {"type": "profile-bulk-import-job", "attributes": {"profiles": {"data": [
        {"type": "profile", "attributes": attributes} for attributes in profiles]}}}
    if list_id:
        data["relationships"] = {"lists": {"data": [{"type": "list", "id": list_id}]}}
    return {"data": data}


def list_members(profile_ids: Iterable[str]) -> Body:
    return {"data": [{"type": "profile", "id": profile_id} for profile_id in profile_ids]}


# -- consent -----------------------------------------------------------------------------------


def subscribe_job(profiles: Iterable[dict[str, Any]], *, list_id: str, custom_source: str,
                  historical: bool = False) -> Body:
    attributes: Body = {
        "custom_source": custom_source,
        "profiles": {"data": [{"type": "profile", "attributes": p} for p in profiles]},
    }
    if historical:
        attributes["historical_import"] = True
    return {"data": {"type": "profile-subscription-bulk-create-job", "attributes": attributes,
                     "relationships": _list_relationship(list_id)}}


def unsubscribe_job(profiles: Iterable[dict[str, Any]], *, list_id: str) -> Body:
    return {"data": {
        "type": "profile-subscription-bulk-delete-job",
        "attributes": {"profiles": {"data": [
            {"type": "profile", "attributes": p} for p in profiles]}},
        "relationships": _list_relationship(list_id),
    }}


# -- events ------------------------------------------------------------------------------------


def event_create(*, metric: str, profile: dict[str, Any], properties: dict[str, Any],
                 unique_id: str, time_iso: str | None = None) -> Body:
    """Create Event: its profile block is `profile.data.attributes` (not `data.meta`-style)."""
    attributes: Body = {
        "properties": properties,
        "metric": metric_block(metric),
        "profile": {"data": {"type": "profile", "attributes": profile}},
        "unique_id": unique_id,
    }
    if time_iso:
        attributes["time"] = time_iso
    return {"data": {"type": "event", "attributes": attributes}}


def profile_deletion(*, profile_id: str = "", email: str = "", phone: str = "") -> Body:
    """A data-privacy deletion job for the profiles one identifier names (Klaviyo refuses a
    request with more than one): the profile id, else the email, else the phone number."""
    profile: Body = {"type": "profile", "attributes": {}}
    if profile_id:
        profile["id"] = profile_id
    elif email:
        profile["attributes"] = {"email": email}
    elif phone:
        profile["attributes"] = {"phone_number": phone}
    else:
        raise ValueError("a deletion needs a profile id, an email or a phone number")
    return {"data": {"type": "data-privacy-deletion-job",
                     "attributes": {"profile": {"data": profile}}}}


def _bulk_events(entries: Any) -> Body:
    return {"data": {"type": "event-bulk-create-job",
                     "attributes": {"events-bulk-create": {"data": entries}}}}


def bulk_events(events: Iterable[BulkEvent]) -> Body:
    """Bulk Create Events, one entry per event (metric blocks shared per metric name)."""
    metrics: dict[str, Body] = {}
    entries = []
    for event in events:
        metric = metrics.get(event.metric)
        if metric is None:
            metric = metrics[event.metric] = metric_block(event.metric)
        entries.append(_bulk_entry(event.profile, event.all_properties, metric,
                                   event.unique_id, event.time_iso))
    return _bulk_events(entries)


def bulk_events_shared(*, metric: str, properties: dict[str, Any],
                       recipients: Iterable[tuple[dict[str, Any], str]]) -> Body:
    """Bulk Create Events where every event has the same metric and properties (one restock):
    (profile, unique_id) per recipient, the properties and metric block shared by all."""
    block = metric_block(metric)
    return _bulk_events([_bulk_entry(profile, properties, block, unique_id, None)
                         for profile, unique_id in recipients])


# -- the fast path for 1,000-event bodies (see module docstring) ---------------------------------

#: Placeholder values. PostgreSQL text cannot hold NUL, so no stored value contains one; a
#: template whose placeholders are not each found once, in order, is not used (`None`).
_HOLE = "\x00notifyme-hole-{}\x00"
_MISSING: Any = object()
Template = list[bytes]


def _template(part: Any, holes: int) -> Template | None:
    """`encode(part)` cut at its `holes` placeholders (given to the builder in text order)."""
    text = orjson.dumps(part)
    pieces = []
    for index in range(holes):
        marker = orjson.dumps(_HOLE.format(index))
        before, found, text = text.partition(marker)
        if not found or marker in text:
            return None
        pieces.append(before)
    pieces.append(text)
    return pieces


def _holes(count: int) -> list[str]:
    return [_HOLE.format(index) for index in range(count)]


def _wrap(entries: list[bytes]) -> bytes:
    head, tail = orjson.dumps(_bulk_events(_HOLE.format(0))).split(orjson.dumps(_HOLE.format(0)))
    return head + b"[" + b",".join(entries) + b"]" + tail


def _entry_template(event: BulkEvent) -> Template | None:
    """The event's entry with placeholders for its profile, own property values, unique_id and
    time, as [text, b"", text, b"", ..., text]: the values go into the empty slots."""
    own = list(event.own_properties)
    holes = _holes(2 + len(own) + (1 if event.time_iso else 0))
    properties = ({**event.properties, **dict(zip(own, holes[1:], strict=False))} if own
                  else event.properties)
    time_hole = holes[-1] if event.time_iso else None
    pieces = _template(_bulk_entry(holes[0], properties, metric_block(event.metric),
                                   holes[1 + len(own)], time_hole), len(holes))
    return None if pieces is None else [x for piece in pieces for x in (piece, b"")][:-1]


def encode_bulk_events(events: Iterable[BulkEvent]) -> bytes:
    """`encode(bulk_events(events))`, fast (see module docstring). One template per shape:
    the shared properties object, the metric, the own property names and whether it is timed."""
    dumps, join = orjson.dumps, b"".join
    # (id of the shared properties, shape) -> (that properties dict, kept so its id stays its
    # own, and the template)
    templates: dict[tuple[Any, ...], tuple[Any, Template | None]] = {}
    entries: list[bytes] = []
    shared: Any = _MISSING
    rest: tuple[Any, ...] = ()
    layout: Template | None = None
    for event in events:
        own = event.own_properties
        shape = (event.metric, *own, event.time_iso is None)
        if event.properties is not shared or shape != rest:
            shared, rest = event.properties, shape
            found = templates.get((id(shared), *shape))
            if found is None or found[0] is not shared:
                found = templates[(id(shared), *shape)] = (shared, _entry_template(event))
            layout = found[1]
        if layout is None:
            entries.append(dumps(event.as_json()))
            continue
        values = [dumps(event.profile)]
        values += map(dumps, own.values())
        values.append(dumps(event.unique_id))
        if event.time_iso:
            values.append(dumps(event.time_iso))
        text = layout.copy()
        text[1::2] = values
        entries.append(join(text))
    return _wrap(entries)


def encode_bulk_events_shared(*, metric: str, properties: dict[str, Any],
                              recipients: Iterable[tuple[dict[str, Any], str]]) -> bytes:
    """`encode(bulk_events_shared(...))`, fast (see module docstring)."""
    pieces = _template(_bulk_entry(_HOLE.format(0), properties, metric_block(metric),
                                   _HOLE.format(1), None), 2)
    if pieces is None:
        return encode(bulk_events_shared(metric=metric, properties=properties,
                                         recipients=recipients))
    head, middle, tail = pieces
    dumps = orjson.dumps
    return _wrap([head + dumps(profile) + middle + dumps(unique_id) + tail
                  for profile, unique_id in recipients])
