"""Health of shops, for the board, the shop page and `doctor` (reads only).

Two halves, both built for 10,000 shops:
- `shops_ranked(now=...)`: every shop annotated with its `health_rank` (into `STATUSES`), computed
  in SQL from the shop's own columns, its Klaviyo connection and three indexed EXISTS probes
  (errors in 24 h, failed webhooks in 24 h, due work stalled), so the board sorts broken first,
  filters and paginates in the database.
- `facts_for(shops, now=...)`: the detail of one page of shops with a constant number of
  aggregate queries (grouped by shop over `IN (page ids)`) and one Redis round trip per limiter,
  whatever the page size: no per-shop query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from integrations.klaviyo import ratelimit as klaviyo_limits
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.klaviyo.selectors import CONNECTION_OPERATIONS
from integrations.shopify import ratelimit as shopify_limits
from notifyme.restocks.models import RestockDelivery
from notifyme.shops.models import Shop
from notifyme.support.catalogue import entry
from notifyme.support.explain import record_kind
from notifyme.support.facts import RANK, STATUSES, ErrorCount, Facts, LastError
from notifyme.sync.models import OutboxItem
from notifyme.webhooks import signature_failures
from notifyme.webhooks.models import WebhookEvent

#: Due work untouched this long means workers or the sweeper are not running.
STALL_AFTER = timedelta(minutes=15)
DAY, WEEK = timedelta(hours=24), timedelta(days=7)

#: `catalogue.webhook_kind` in SQL, so failed webhooks can be counted per kind in one query.
WEBHOOK_KIND_SQL = Case(
    When(last_error__startswith="gave up after", then=Value("retries_exhausted")),
    When(last_error__startswith="ReauthRequired", then=Value("needs_reauth")),
    When(last_error__startswith="the body ", then=Value("bad_payload")),
    When(last_error="", then=Value("unknown")),
    default=Value("handler_failed"), output_field=CharField(),
)


#: `explain.record_kind` in SQL: a 400 pointing at the phone (email) is an invalid phone (email)
#: on the board too, with that kind's fix, as on the shopper's timeline.
KLAVIYO_KIND_SQL = Case(
    When(error_kind="bad_request", error_pointer__endswith="/phone_number",
         then=Value("invalid_phone")),
    When(error_kind="bad_request", error_pointer__endswith="/email",
         then=Value("invalid_email")),
    default=F("error_kind"), output_field=CharField(),
)


def _needs_action() -> Q:
    needs = KlaviyoConnection.Status.NEEDS_ATTENTION
    no_live_flow = Q(klaviyo_connection__status=KlaviyoConnection.Status.CONNECTED,
                     klaviyo_connection__flow_alarm=True)
    return (Q(auth_state=Shop.AuthState.NEEDS_REAUTH)
            | Q(access_token_encrypted="", refresh_token_encrypted="")
            | Q(klaviyo_connection__status=needs) | no_live_flow)


def shops_ranked(*, now: datetime) -> QuerySet[Shop]:
    """Every shop annotated with `health_rank` (its status's index in STATUSES: 0 = most
    broken), ordered broken first, then by domain."""
    since = now - DAY
    errors = SyncAttempt.objects.filter(shop=OuterRef("pk"), created_at__gte=since).exclude(
        error_kind="")
    hooks = WebhookEvent.objects.filter(shop_domain=OuterRef("domain"), received_at__gte=since,
                                        state=WebhookEvent.State.FAILED)
    stalled_sync = OutboxItem.objects.filter(shop=OuterRef("pk"), state=OutboxItem.State.PENDING,
                                             available_at__lt=now - STALL_AFTER)
    stalled_restock = RestockDelivery.objects.filter(
        restock__shop=OuterRef("pk"), state=RestockDelivery.State.PENDING,
        available_at__lt=now - STALL_AFTER)
    rank = Case(  # indexes into STATUSES; computed once per shop, sorted and filtered on
        When(state=Shop.State.UNINSTALLED, then=Value(RANK["uninstalled"])),
        When(_needs_action(), then=Value(RANK["action"])),
        When(Q(Exists(errors)) | Q(Exists(hooks))
             | (Q(klaviyo_connection__status=KlaviyoConnection.Status.CONNECTED)
                & (Q(Exists(stalled_sync)) | Q(Exists(stalled_restock)))),
             then=Value(RANK["failing"])),
        When(Q(klaviyo_connection__isnull=True)
             | Q(klaviyo_connection__status=KlaviyoConnection.Status.DISCONNECTED),
             then=Value(RANK["not_connected"])),
        default=Value(RANK["healthy"]), output_field=IntegerField(),
    )
    return (Shop.objects.select_related("klaviyo_connection")
            .annotate(health_rank=rank).order_by("health_rank", "domain"))


def health_of(shop: Shop, *, now: datetime) -> str:
    """The status of a shop (from its `shops_ranked` annotation, else one query)."""
    rank = getattr(shop, "health_rank", None)
    if rank is None:
        rank = getattr(shops_ranked(now=now).get(pk=shop.pk), "health_rank", RANK["healthy"])
    return STATUSES[int(rank or 0)][0]


def facts_for(shops: Sequence[Shop], *, now: datetime) -> list[Facts]:
    """Facts for each shop, in the given order: 7 SQL queries and 3 Redis round trips in all."""
    if not shops:
        return []
    ids = [s.pk for s in shops]
    facts = {s.pk: Facts(shop=s, health=health_of(s, now=now),
                         connection=getattr(s, "klaviyo_connection", None)) for s in shops}
    by_domain = {s.domain: facts[s.pk] for s in shops}
    _klaviyo_facts(facts, now=now)
    _webhook_facts(by_domain, now=now)
    _backlog_facts(facts, now=now)
    for shop_facts in facts.values():
        _connection_facts(shop_facts)
    _limits(list(facts.values()))
    _signature_failures(by_domain, now=now)
    for shop_facts in facts.values():
        shop_facts.errors.sort(key=lambda e: (-e.day, -e.week, e.kind))
    return [facts[pk] for pk in ids]


def _klaviyo_facts(facts: dict[int, Facts], *, now: datetime) -> None:
    """Error counts per kind, the newest failed call and the newest accepted call (3 queries)."""
    ids, day, week = list(facts), now - DAY, now - WEEK
    failed = SyncAttempt.objects.filter(shop_id__in=ids, created_at__gte=week).exclude(
        error_kind="")
    for row in (failed.annotate(kind=KLAVIYO_KIND_SQL).values("shop_id", "kind")
                .annotate(day=Count("id", filter=Q(created_at__gte=day)), week=Count("id"),
                          last=Max("created_at")).order_by()):
        kind = row["kind"]
        facts[row["shop_id"]].errors.append(ErrorCount("klaviyo", kind, entry("klaviyo", kind),
                                                       row["day"], row["week"], row["last"]))
    newest = failed.order_by("shop_id", "-created_at").distinct("shop_id").only(
        "shop_id", "error_kind", "error_pointer", "error_detail", "klaviyo_error_id",
        "created_at")
    for attempt in newest:
        kind = record_kind(kind=attempt.error_kind, pointer=attempt.error_pointer)
        _offer(facts[attempt.shop_id], LastError(
            "klaviyo", kind, entry("klaviyo", kind), attempt.created_at,
            entry("klaviyo", kind).fix, attempt.error_detail[:300], attempt.klaviyo_error_id))
    ok = (SyncAttempt.objects.filter(shop_id__in=ids, created_at__gte=week, error_kind="",
                                     status_code__lt=300)
          .exclude(operation__in=CONNECTION_OPERATIONS).exclude(operation__startswith="verify_"))
    for row in ok.values("shop_id").annotate(last=Max("created_at")).order_by():
        facts[row["shop_id"]].last_success = row["last"]


def _webhook_facts(by_domain: dict[str, Facts], *, now: datetime) -> None:
    """Failed webhooks per kind and the waiting ones (2 queries)."""
    domains, day, week = list(by_domain), now - DAY, now - WEEK
    hooks = WebhookEvent.objects.filter(shop_domain__in=domains, received_at__gte=week,
                                        state=WebhookEvent.State.FAILED)
    for row in (hooks.annotate(kind=WEBHOOK_KIND_SQL).values("shop_domain", "kind")
                .annotate(day=Count("id", filter=Q(received_at__gte=day)), week=Count("id"),
                          last=Max("received_at")).order_by()):
        shop_facts, kind = by_domain[row["shop_domain"]], row["kind"]
        found = entry("webhook", kind)
        shop_facts.errors.append(ErrorCount("webhook", kind, found, row["day"], row["week"],
                                            row["last"]))
        _offer(shop_facts, LastError("webhook", kind, found, row["last"], found.fix))
    for row in (WebhookEvent.objects.filter(shop_domain__in=domains,
                                            state=WebhookEvent.State.PENDING)
                .values("shop_domain").annotate(n=Count("id"), oldest=Min("received_at"))
                .order_by()):
        by_domain[row["shop_domain"]].webhooks_pending = row["n"]
        by_domain[row["shop_domain"]].webhook_oldest = row["oldest"]


def _backlog_facts(facts: dict[int, Facts], *, now: datetime) -> None:
    """Pending subscriber syncs and released restock alerts (2 queries)."""
    ids = list(facts)
    for row in (OutboxItem.objects.filter(shop_id__in=ids, state=OutboxItem.State.PENDING)
                .values("shop_id").annotate(n=Count("id"), oldest=Min("created_at"),
                                            due=Count("id", filter=Q(available_at__lte=now)),
                                            due_since=Min("available_at"))
                .order_by()):
        shop_facts = facts[row["shop_id"]]
        shop_facts.outbox_pending, shop_facts.outbox_due = row["n"], row["due"]
        shop_facts.outbox_oldest = row["oldest"]
        shop_facts.outbox_oldest_due = row["due_since"] if row["due"] else None
    for row in (RestockDelivery.objects.filter(restock__shop_id__in=ids,
                                               state=RestockDelivery.State.PENDING,
                                               available_at__isnull=False)
                .values("restock__shop_id").annotate(n=Count("id"), oldest=Min("available_at"))
                .order_by()):
        facts[row["restock__shop_id"]].restock_pending = row["n"]
        facts[row["restock__shop_id"]].restock_oldest = row["oldest"]


def _connection_facts(shop_facts: Facts) -> None:
    """Fold in what the connection row itself recorded (no query: it was select_related)."""
    connection = shop_facts.connection
    if connection and connection.last_sync_at and (
            shop_facts.last_success is None or connection.last_sync_at
            > shop_facts.last_success):
        shop_facts.last_success = connection.last_sync_at
    if connection and connection.last_error_at and connection.last_error_kind:
        kind = connection.last_error_kind
        sentence = connection.last_error_message or entry("klaviyo", kind).fix
        _offer(shop_facts, LastError("klaviyo", kind, entry("klaviyo", kind),
                                     connection.last_error_at, sentence,
                                     error_id=connection.last_error_id), specific=True)


def _offer(facts: Facts, candidate: LastError, *, specific: bool = False) -> None:
    """Keep the newest error. A `specific` candidate (the connection's own sentence, which may
    name the missing scopes) lends its sentence to a same-kind call error and takes the call's
    detail and error id when it is the newer one."""
    current = facts.last_error
    same = current is not None and current.kind == candidate.kind and specific
    if current is None or candidate.at > current.at:
        if same and current is not None:
            candidate.detail = candidate.detail or current.detail
            candidate.error_id = candidate.error_id or current.error_id
        facts.last_error = candidate
    elif same and current is not None:
        current.sentence = candidate.sentence


def _signature_failures(by_domain: dict[str, Facts], *, now: datetime) -> None:
    """Refused webhook deliveries claiming each shop (counted in Redis: they are not stored)."""
    found = entry("webhook", "invalid_signature")
    for domain, failures in signature_failures.counts(domains=list(by_domain), now=now).items():
        shop_facts = by_domain[domain]
        shop_facts.errors.append(ErrorCount("webhook", found.kind, found, failures.day,
                                            failures.week, failures.last_hour))
        _offer(shop_facts, LastError("webhook", found.kind, found, failures.last_hour,
                                     found.fix, f"{failures.day} refused in 24 h"))


def _limits(facts: list[Facts]) -> None:
    """Current Klaviyo cool-down (per account) and Shopify cost bucket (per shop)."""
    accounts = {f.shop.pk: f.connection.account_id for f in facts
                if f.connection and f.connection.account_id}
    cool = klaviyo_limits.cool_downs_remaining(account_ids=list(accounts.values()))
    buckets = shopify_limits.buckets(shop_domains=[f.shop.domain for f in facts])
    for shop_facts in facts:
        account = accounts.get(shop_facts.shop.pk)
        shop_facts.cool_down_seconds = cool.get(account, 0.0) if account else 0.0
        shop_facts.bucket = buckets.get(shop_facts.shop.domain)
