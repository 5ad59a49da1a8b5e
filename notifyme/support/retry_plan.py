"""What a retry of failed records would send: the records, the Klaviyo calls, their bodies.

A read (no writes): `retry_plan(shop=..., record=...)` lists the shop's failed records — ONE
(`record="sync-<outbox id>"` / `"delivery-<restock delivery id>"`) or ALL of them, oldest
first, at most `MAX_RECORDS` per retry — and the requests the pipeline's handlers would build
for them, through their own code: the subscriber sync's rows (`profile_sync.to_row`, its steps,
`profile_fields`) and the restock fan-out's events (`restocks.events.build_events`), turned into
bodies by `integrations.klaviyo.bodies` exactly as the client does. Bodies carry shopper
identifiers and product facts, never the key.

Calls are grouped as the handlers group them when these rows are claimed together: profiles
one by one for a few rows (`SINGLE_MAX`) and through a bulk import beyond, consent and events
in one bulk request per chunk, restock events one request per restock. Rows of the shop that
become due at the same time can share those requests; the entries shown are the ones these
records contribute.

`token` is a digest of the whole plan (records and bodies): the retry refuses to run when the
plan it would run now has a different token (a record changed, failed or was retried since).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from django.db import connection as db_connection

from integrations.klaviyo import bodies
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.operations import OPERATIONS
from notifyme.delivery import conf as delivery_conf
from notifyme.restocks import sql as restock_sql
from notifyme.restocks.events import DeliveryRow, build_events, event_properties
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.retry import retryable_deliveries
from notifyme.shops.models import Shop
from notifyme.sync import profile_fields
from notifyme.sync.models import OutboxItem, Step
from notifyme.sync.profile_sync import SINGLE_MAX, to_row
from notifyme.sync.rows import Row

MAX_RECORDS = 1000
SYNC, DELIVERY = "sync", "delivery"
RECORD_RE = re.compile(r"^(sync|delivery)-([1-9][0-9]{0,17})$")
PROFILE_ID_FROM_CALL = "<the profile id the profile call returns>"
STEP_NAMES = {Step.PROFILE: "profile", Step.LIST: "list", Step.CONSENT: "consent",
              Step.EVENT: "event"}


class UnknownRecord(LookupError):
    """The record is not a failed record of this shop (or its reference is malformed)."""


@dataclass(frozen=True)
class PlannedCall:
    operation: str
    method: str
    path: str
    records: list[str]
    body: dict[str, Any]

    @property
    def body_json(self) -> str:
        return orjson.dumps(self.body, option=orjson.OPT_INDENT_2).decode()


@dataclass(frozen=True)
class RetryRecord:
    ref: str  # "sync-12" / "delivery-34"
    kind: str  # SYNC / DELIVERY
    pk: int
    subscription_id: int
    shopper: str
    what: str  # "Subscriber sync (profile, list, event)" / "Back in Stock alert, restock #5"
    failed_because: str


@dataclass
class RetryPlan:
    shop: Shop
    records: list[RetryRecord] = field(default_factory=list)
    calls: list[PlannedCall] = field(default_factory=list)
    more: int = 0  # failed records beyond MAX_RECORDS (a later retry takes them)
    waiting: int = 0  # not failed, still to send: they go by themselves once syncing
    blocked: str = ""  # why nothing is sent right now even after the retry (not syncing)

    @property
    def token(self) -> str:
        data = orjson.dumps({"shop": self.shop.pk, "records": [asdict(r) for r in self.records],
                             "calls": [asdict(c) for c in self.calls]})
        return hashlib.sha256(data).hexdigest()[:32]

    def ids(self, kind: str) -> list[int]:
        return [record.pk for record in self.records if record.kind == kind]


def parse_record(ref: str) -> tuple[str, int]:
    match = RECORD_RE.match(ref or "")
    if match is None:
        raise UnknownRecord(ref)
    return match.group(1), int(match.group(2))


def _call(name: str, records: list[str], body: dict[str, Any], **ids: str) -> PlannedCall:
    op = OPERATIONS[name]
    return PlannedCall(name, op.method, op.path_for(**ids) if ids else op.path, records, body)


def _shopper(sub: Any) -> str:
    return sub.email or sub.phone or f"subscription #{sub.pk}"


# -- the subscriber sync's rows ----------------------------------------------------------------


def _sync_calls(rows: list[Row], list_id: str) -> list[PlannedCall]:
    """The PROFILE_SYNC stages' requests for `rows` (profile_sync._stages' order and split)."""
    calls: list[PlannedCall] = []
    ref = {id(r): f"{SYNC}-{r.item.pk}" for r in rows}
    profile_todo = [r for r in rows if r.needs(Step.PROFILE) and not r.done & Step.IMPORTED]
    singles = [r for r in profile_todo if len(profile_todo) <= SINGLE_MAX
               or r.sub.klaviyo_profile_id]
    for row in singles:
        attrs = profile_fields.profile_attributes(row.sub, drop_phone=bool(row.phone_issue))
        known = row.sub.klaviyo_profile_id
        calls.append(_call("update_profile", [ref[id(row)]], bodies.profile_update(known, attrs),
                           id=known) if known else
                     _call("profile_import", [ref[id(row)]], bodies.profile_import(attrs)))
    listed = [r for r in rows if r.needs(Step.LIST) and (r in singles or r.done & Step.PROFILE)]
    if listed and list_id:
        ids = [r.profile_id or (r.sub.klaviyo_profile_id or PROFILE_ID_FROM_CALL) for r in listed]
        calls.append(_call("add_profiles_to_list", [ref[id(r)] for r in listed],
                           bodies.list_members(ids), id=list_id))
    consenting = [r for r in rows if r.needs(Step.CONSENT)]
    for historical in (False, True):
        group = [r for r in consenting if profile_fields.is_historical(r.sub) == historical]
        entries = [e for r in group for e in profile_fields.consent_entries(
            r.sub, historical=historical, phone_issue=r.phone_issue)]
        if entries:
            calls.append(_call("bulk_subscribe", [ref[id(r)] for r in group], bodies.subscribe_job(
                entries, list_id=list_id, custom_source=profile_fields.CUSTOM_SOURCE,
                historical=historical)))
    eventful = [r for r in rows if r.needs(Step.EVENT)]
    events = [profile_fields.subscribed_event(r.sub, drop_phone=r.phone_issue == "invalid")
              for r in eventful]
    if len(events) == 1:
        e = events[0]
        calls.append(_call("create_event", [ref[id(eventful[0])]], bodies.event_create(
            metric=e.metric, profile=e.profile, properties=e.all_properties,
            unique_id=e.unique_id, time_iso=e.time_iso)))
    elif events:
        calls.append(_call("bulk_create_events", [ref[id(r)] for r in eventful],
                           bodies.bulk_events(events)))
    imported = [r for r in rows if r not in singles and r.needs(Step.PROFILE)
                and not r.done & Step.IMPORTED]
    if imported:
        profiles = [profile_fields.profile_attributes(r.sub, drop_phone=bool(r.phone_issue))
                    for r in imported]
        calls.append(_call("bulk_import_profiles", [ref[id(r)] for r in imported],
                           bodies.profile_bulk_import(profiles, list_id=list_id or None)))
    return calls


def _withdrawal_calls(items: list[OutboxItem], list_id: str) -> list[PlannedCall]:
    """UNSUBSCRIBE / REDACT rows: their marketing opt-out (when the shopper asked for one);
    leaving the list needs the profile id the handler looks up at send time."""
    calls = []
    for item in items:
        sub = item.subscription
        if item.kind == OutboxItem.Kind.UNSUBSCRIBE and sub.marketing_withdrawn_at:
            entries = profile_fields.unsubscribe_entries(email=sub.email, phone=sub.phone)
            calls.append(_call("bulk_unsubscribe", [f"{SYNC}-{item.pk}"],
                               bodies.unsubscribe_job(entries, list_id=list_id)))
        if item.kind == OutboxItem.Kind.UNSUBSCRIBE and list_id:
            calls.append(_call("remove_profiles_from_list", [f"{SYNC}-{item.pk}"],
                               bodies.list_members([sub.klaviyo_profile_id
                                                    or PROFILE_ID_FROM_CALL]), id=list_id))
    return calls


def _steps_label(row: Row) -> str:
    left = [name for bit, name in STEP_NAMES.items() if row.needs(bit)]
    return "Subscriber sync" + (f" ({', '.join(left)})" if left else "")


def _outbox(shop: Shop, pk: int | None, limit: int) -> list[OutboxItem]:
    items = (OutboxItem.objects.filter(shop=shop, state=OutboxItem.State.FAILED)
             .select_related("subscription__variant__product", "subscription__shop")
             .order_by("id"))
    return list(items.filter(pk=pk) if pk else items[:limit])


# -- restock deliveries -------------------------------------------------------------------------


def _delivery_calls(restock: Restock, rows: list[DeliveryRow]) -> list[PlannedCall]:
    """The fan-out's requests (`fanout._deliver`): one event alone, else a shared bulk body
    per chunk."""
    events, sent_rows, _ = build_events(rows, event_properties(restock))
    calls = []
    size = delivery_conf.restock_chunk_size()
    for start in range(0, len(events), size):
        chunk, owners = events[start:start + size], sent_rows[start:start + size]
        refs = [f"{DELIVERY}-{row.id}" for row in owners]
        first = chunk[0]
        if len(chunk) == 1:
            body = bodies.event_create(metric=first.metric, profile=first.profile,
                                       properties=first.properties, unique_id=first.unique_id)
            calls.append(_call("create_event", refs, body))
        else:
            body = bodies.bulk_events_shared(metric=first.metric, properties=first.properties,
                                             recipients=[(e.profile, e.unique_id) for e in chunk])
            calls.append(_call("bulk_create_events", refs, body))
    return calls


def _deliveries(shop: Shop, pk: int | None, limit: int) -> list[RestockDelivery]:
    rows = retryable_deliveries(shop_id=shop.pk).order_by("id")
    return list(rows.filter(pk=pk) if pk else rows[:limit])


def _add_deliveries(plan: RetryPlan, deliveries: list[RestockDelivery]) -> None:
    """Records and calls of failed restock deliveries, restock by restock."""
    by_restock: dict[int, list[RestockDelivery]] = {}
    for delivery in deliveries:
        by_restock.setdefault(delivery.restock_id, []).append(delivery)
    for restock_id, group in sorted(by_restock.items()):
        restock = Restock.objects.select_related("shop", "variant__product").get(pk=restock_id)
        errors = {d.pk: d.last_error for d in group}
        lines = [DeliveryRow(*values) for values in
                 restock_sql.claimed_rows(db_connection, ids=list(errors))]
        for line in lines:
            plan.records.append(RetryRecord(
                f"{DELIVERY}-{line.id}", DELIVERY, line.id, line.subscription_id,
                line.email or line.phone or f"subscription #{line.subscription_id}",
                f"Back in Stock alert, restock #{restock_id}", errors[line.id]))
        plan.calls += _delivery_calls(restock, lines)


# -- the plan -----------------------------------------------------------------------------------


def _blocked(link: KlaviyoConnection | None) -> str:
    """Why nothing is sent for this shop right now, with the connection's own sentence."""
    if link is not None and link.paused:
        return ("Paused by support: the records are queued again but nothing is sent until "
                "the sync is resumed.")
    why = f" {link.last_error_message}" if link is not None and link.last_error_message else ""
    return ("The Klaviyo connection is not syncing: the records are queued again but wait "
            f"until the connection is fixed (reconnect, then re-verify).{why}")


def retry_plan(*, shop: Shop, record: str | None = None) -> RetryPlan:
    """The plan for ONE record (`record`, raises UnknownRecord when it is not a failed record
    of this shop) or for ALL the shop's failed records (`record=None`)."""
    kind, pk = parse_record(record) if record else ("", None)
    link = KlaviyoConnection.objects.filter(shop=shop).first()
    list_id = link.list_id if link else ""
    plan = RetryPlan(shop=shop)
    items = _outbox(shop, pk, MAX_RECORDS) if kind in ("", SYNC) else []
    deliveries = _deliveries(shop, pk, MAX_RECORDS - len(items)) if kind in ("", DELIVERY) else []
    if record and not (items or deliveries):
        raise UnknownRecord(record)
    if not record:
        total = (OutboxItem.objects.filter(shop=shop, state=OutboxItem.State.FAILED).count()
                 + retryable_deliveries(shop_id=shop.pk).count())
        plan.more = max(0, total - len(items) - len(deliveries))
    rows = [to_row(item) for item in items if item.kind == OutboxItem.Kind.PROFILE_SYNC]
    by_item = {row.item.pk: row for row in rows}
    for item in items:
        row = by_item.get(item.pk)
        what = _steps_label(row) if row else item.get_kind_display()
        if row is not None and row.superseded:
            what += ": the shopper has left since, so nothing will be sent"
        plan.records.append(RetryRecord(f"{SYNC}-{item.pk}", SYNC, item.pk, item.subscription_id,
                                        _shopper(item.subscription), what, item.last_error))
    plan.calls += _sync_calls([r for r in rows if not r.superseded], list_id)
    plan.calls += _withdrawal_calls(
        [i for i in items if i.kind == OutboxItem.Kind.UNSUBSCRIBE], list_id)
    _add_deliveries(plan, deliveries)
    plan.waiting = (
        OutboxItem.objects.filter(shop=shop, state=OutboxItem.State.PENDING).count()
        + RestockDelivery.objects.filter(restock__shop=shop, state=RestockDelivery.State.PENDING,
                                         available_at__isnull=False).count())
    if link is None or not link.is_syncing:
        plan.blocked = _blocked(link)
    return plan
