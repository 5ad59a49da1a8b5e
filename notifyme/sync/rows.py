"""Claimed outbox rows in memory (`Row`) and writing their outcomes back in one transaction.

A job loads its claimed rows once, every stage flips bits on the in-memory `Row`s, and
`save_outcomes` turns the result into a handful of grouped UPDATEs (not one per row), fenced by the
lease token so a worker that lost its lease writes nothing:
- `error` set                  -> FAILED, Subscription.sync_state = failed + Klaviyo's detail;
- every needed step done       -> DONE, Subscription synced (+ profile id and note when known);
- only the import confirmation -> WAITING (the ImportBatch poll finishes them);
- anything else                -> back to PENDING, due after `delay` (rate limit / backoff).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.utils import timezone

from notifyme.catalog.models import Variant
from notifyme.delivery import leasing
from notifyme.delivery.sql import in_ids, value_rows
from notifyme.subscriptions.models import Subscription
from notifyme.sync.models import OutboxItem, Step
from notifyme.sync.profile_fields import PHONE_NOTES

State = OutboxItem.State
T = TypeVar("T")
#: Columns a job reads (`.only()`): fewer datetimes to parse, less memory per row. Everything
#: payloads, stages and outcomes touch must be listed, or Django fetches it row by row.
ITEM_FIELDS = ("id", "shop_id", "subscription_id", "kind", "attempts", "steps_needed",
               "steps_done", "phone_issue", "import_batch_id")
SUBSCRIPTION_FIELDS = ("id", "shop_id", "variant_id", "email", "phone", "first_name",
                       "marketing_consent", "consented_at", "sms_consent", "sms_consented_at",
                       "marketing_withdrawn_at", "source", "locale",
                       "shopify_customer_id", "quantity_wanted", "status", "klaviyo_profile_id",
                       "unsubscribe_token", "created_at")


@dataclass(eq=False)
class Row:
    """One claimed outbox row and what this job learned about it."""

    item: OutboxItem
    done: int
    needed: int
    phone_issue: str = ""
    profile_id: str = ""
    note: str = ""
    error: str = ""
    import_batch_id: int | None = None
    superseded: bool = False  # the subscription ended before it synced: nothing to send
    _memo: dict[str, tuple[Any, Any]] = field(default_factory=dict, init=False, repr=False)
    #: The item's subscription, read once (stages read it many times per row; the relation
    #: descriptor costs more than the attribute).
    sub: Subscription = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.sub = self.item.subscription

    def needs(self, step: int) -> bool:
        return bool(self.needed & step) and not self.done & step

    @property
    def complete(self) -> bool:
        return not self.error and self.done & self.needed == self.needed

    @property
    def only_import_left(self) -> bool:
        covered = self.done | (Step.PROFILE | Step.LIST if self.done & Step.IMPORTED else 0)
        return not self.error and not self.complete and covered & self.needed == self.needed

    def fail(self, detail: str) -> None:
        self.error = detail or "Klaviyo rejected this subscriber."

    def cached(self, name: str, key: Any, build: Callable[[], T]) -> T:
        """`build()` once per `name` while `key` (e.g. the row's phone decision) stays the same:
        payload pieces a stage both sizes its requests by and then sends."""
        found = self._memo.get(name)
        if found is None or found[0] != key:
            found = (key, build())
            self._memo[name] = found
        return found[1]


def _instance(model: type[Any], names: tuple[str, ...], values: Iterable[Any],
              related: dict[str, Any]) -> Any:
    """A model instance from already-typed column values, without Model.__init__'s per-field
    work (much of a 10,000-row job's CPU): the values go straight into its __dict__, and so
    does a ModelState (loaded from "default", `related` as its relation cache). Unlisted fields
    stay deferred, as with only()."""
    obj = object.__new__(model)
    state = object.__new__(ModelState)
    state.__dict__.update(db="default", adding=False, fields_cache=related)
    attributes = obj.__dict__
    attributes.update(zip(names, values, strict=True))
    attributes["_state"] = state
    return obj


def load(ids: Iterable[int]) -> list[OutboxItem]:
    """The claimed rows with their subscriptions, variants, products and shop — in 2 queries.

    Rows and subscriptions come back as plain tuples (one join) turned into instances
    directly; variants, products and the shop are loaded once and shared by every row that
    refers to them (a backlog is thousands of rows for a handful of variants).
    """
    ids = list(ids)
    if not ids:  # a round that found nothing due costs no query here
        return []
    columns = [*ITEM_FIELDS, *(f"subscription__{f}" for f in SUBSCRIPTION_FIELDS)]
    found = value_rows(OutboxItem.objects.filter(in_ids(ids)).order_by("id")
                       .values_list(*columns))
    split = len(ITEM_FIELDS)
    items: list[OutboxItem] = []
    subs: list[Subscription] = []
    for values in found:
        sub = _instance(Subscription, SUBSCRIPTION_FIELDS, values[split:], {})
        subs.append(sub)
        items.append(_instance(OutboxItem, ITEM_FIELDS, values[:split], {"subscription": sub}))
    variants = {v.pk: v for v in Variant.objects.filter(pk__in={s.variant_id for s in subs})
                .select_related("product", "shop")}
    for item, sub in zip(items, subs, strict=True):
        variant = variants[sub.variant_id]
        shop = variant.shop
        sub._state.fields_cache.update(variant=variant, shop=shop)
        item._state.fields_cache["shop"] = shop
    return items


def _subscription_updates(rows: list[Row], now: Any) -> None:
    plain: list[int] = []
    for row in rows:
        if row.error or row.superseded:
            continue
        row.note = row.note or PHONE_NOTES.get(row.phone_issue, "")
        if row.profile_id or row.note:
            fields: dict[str, Any] = {"sync_state": Subscription.SyncState.SYNCED,
                                      "synced_at": now, "sync_error": row.note[:2000]}
            if row.profile_id:
                fields["klaviyo_profile_id"] = row.profile_id
            Subscription.objects.filter(pk=row.item.subscription_id).update(**fields)
        else:
            plain.append(row.item.subscription_id)
    if plain:
        Subscription.objects.filter(in_ids(plain)).update(
            sync_state=Subscription.SyncState.SYNCED, synced_at=now, sync_error="")


def _failed_updates(rows: list[Row]) -> None:
    by_error: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_error[row.error[:2000]].append(row.item.subscription_id)
    for error, sub_ids in by_error.items():
        Subscription.objects.filter(in_ids(sub_ids)).update(
            sync_state=Subscription.SyncState.FAILED, sync_error=error)


def _group(rows: list[Row]) -> dict[tuple[str, int, int, str, int | None], list[int]]:
    groups: dict[tuple[str, int, int, str, int | None], list[int]] = defaultdict(list)
    for row in rows:
        key = (row.error[:2000], row.done, row.needed, row.phone_issue, row.import_batch_id)
        groups[key].append(row.item.pk)
    return groups


def save_outcomes(
    rows: list[Row], *, token: str, delay: float = 0.0, retry_error: str = ""
) -> dict[str, int]:
    """Persist every row's outcome (see module docstring); returns counts per outcome.

    `retry_error` (an outage) counts an attempt on unfinished rows and backs them off with
    jitter instead of `delay`.
    """
    now = timezone.now()
    counts = {"done": 0, "failed": 0, "waiting": 0, "pending": 0}
    failed = [r for r in rows if r.error]
    complete = [r for r in rows if r.complete]
    waiting = [r for r in rows if r.only_import_left]
    rest = [r for r in rows if not (r.error or r.complete or r.only_import_left)]
    with transaction.atomic():
        for row in rest + waiting:  # keep what we learned even when the row is not done yet
            if row.profile_id and row.profile_id != row.sub.klaviyo_profile_id:
                Subscription.objects.filter(pk=row.item.subscription_id).update(
                    klaviyo_profile_id=row.profile_id)
        for (error, done, needed, issue, batch), ids in _group(failed).items():
            counts["failed"] += leasing.fail(
                OutboxItem, ids, token=token, error=error, steps_done=done,
                steps_needed=needed, phone_issue=issue, import_batch_id=batch)
        _failed_updates(failed)
        for (_, done, needed, issue, batch), ids in _group(complete).items():
            counts["done"] += leasing.complete(
                OutboxItem, ids, token=token, steps_done=done, steps_needed=needed,
                phone_issue=issue, import_batch_id=batch, last_error="")
        _subscription_updates(complete, now)
        for (_, done, needed, issue, batch), ids in _group(waiting).items():
            counts["waiting"] += leasing.complete(
                OutboxItem, ids, token=token, state=State.WAITING, completed_at=None,
                steps_done=done, steps_needed=needed, phone_issue=issue, import_batch_id=batch)
        for (_, done, needed, issue, batch), ids in _group(rest).items():
            fields: dict[str, Any] = {"steps_done": done, "steps_needed": needed,
                                      "phone_issue": issue, "import_batch_id": batch}
            if retry_error:
                leasing.retry(OutboxItem, ids, token=token, error=retry_error, **fields)
            else:
                leasing.release(OutboxItem, ids, token=token, delay=delay, **fields)
            counts["pending"] += len(ids)
    return counts


def bump_attempts(ids: list[int]) -> None:
    OutboxItem.objects.filter(in_ids(ids)).update(attempts=F("attempts") + 1)
