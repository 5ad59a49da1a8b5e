"""Prometheus metrics, read from the current state at scrape time (`/support/metrics`).

Nothing here counts in process memory: web workers, RQ workers and the sweeper are separate
processes and come and go, so every figure is read when Prometheus scrapes, from PostgreSQL (a
few aggregate queries, each on an indexed or small table) and Redis. Hence mostly gauges:
"how many now" and "how many in the last hour" (attempt rows are pruned, so an all-time count
from the table would not be monotonic). The one true counter, Shopify's THROTTLED answers, is
a Redis INCR made by the Shopify client (`integrations.shopify.ratelimit.throttled_note`).

No label carries a shop: 10,000 shops would be 10,000 series per metric. Per-shop detail is
the health board's job (/support/); these figures say *that* something is wrong.

A source that does not answer (database, Redis) yields `notifyme_up{source=...} 0` and its
metrics are left out, rather than a failed scrape: the other figures still arrive.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from integrations.klaviyo import ratelimit as klaviyo_ratelimit
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.shopify import ratelimit as shopify_ratelimit
from notifyme.delivery import nudges
from notifyme.delivery.calls import limiter_account
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.sync.models import OutboxItem
from notifyme.webhooks import signature_failures
from notifyme.webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)

RECENT = timedelta(hours=1)
WEBHOOK_LAG_WINDOW = timedelta(minutes=5)


def _gauge(name: str, doc: str, labels: list[str],
           rows: Iterable[tuple[tuple[str, ...], float]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in rows:
        family.add_metric(list(values), value)
    return family


def _grouped(queryset: Any, *fields: str) -> list[tuple[tuple[str, ...], float]]:
    rows = queryset.values(*fields).annotate(n=Count("pk")).order_by()
    return [(tuple(str(row[f]) for f in fields), float(row["n"])) for row in rows]


def _age_seconds(moment: Any, now: Any) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment else 0.0


def _tenants() -> Iterator[Metric]:
    yield _gauge("notifyme_shops", "Shops by install state and Admin API authorization.",
                 ["state", "auth_state"], _grouped(Shop.objects, "state", "auth_state"))
    yield _gauge("notifyme_klaviyo_connections", "Klaviyo connections by status.",
                 ["status"], _grouped(KlaviyoConnection.objects, "status"))


def _subscriptions() -> Iterator[Metric]:
    yield _gauge("notifyme_subscriptions", "Subscriptions by lifecycle status and sync state.",
                 ["status", "sync_state"],
                 _grouped(Subscription.objects, "status", "sync_state"))


def _deliveries(now: Any) -> Iterator[Metric]:
    yield _gauge("notifyme_outbox_items", "Klaviyo sync work rows by kind and state.",
                 ["kind", "state"], _grouped(OutboxItem.objects, "kind", "state"))
    due = OutboxItem.objects.filter(state=OutboxItem.State.PENDING)
    oldest = due.aggregate(oldest=Min("created_at"), due=Count("pk", filter=Q(
        available_at__lte=now)))
    yield _gauge("notifyme_outbox_due", "Pending sync rows whose time has come.", [],
                 [((), float(oldest["due"] or 0))])
    yield _gauge("notifyme_backlog_age_seconds",
                 "Age of the oldest pending sync row (0 when none).", [],
                 [((), _age_seconds(oldest["oldest"], now))])
    totals = Restock.objects.aggregate(total=Sum("total"), sent=Sum("sent"),
                                       failed=Sum("failed"), skipped=Sum("skipped"))
    counts = {k: float(v or 0) for k, v in totals.items()}
    pending = max(0.0, counts["total"] - counts["sent"] - counts["failed"] - counts["skipped"])
    yield _gauge("notifyme_restock_deliveries", "Back-in-stock deliveries by outcome.",
                 ["outcome"], [(("sent",), counts["sent"]), (("failed",), counts["failed"]),
                               (("skipped",), counts["skipped"]), (("pending",), pending)])
    yield _gauge("notifyme_restocks", "Restocks by state.", ["state"],
                 _grouped(Restock.objects, "state"))


def _attempts(now: Any) -> Iterator[Metric]:
    recent = SyncAttempt.objects.filter(created_at__gte=now - RECENT)
    rows = [((kind or "ok",), n) for (kind,), n in _grouped(recent, "error_kind")]
    yield _gauge("notifyme_klaviyo_attempts_last_hour",
                 "Klaviyo calls of the last hour by outcome (ok or the error kind).",
                 ["outcome"], rows)
    yield _gauge("notifyme_klaviyo_429_last_hour", "Klaviyo HTTP 429 answers in the last hour.",
                 [], [((), float(recent.filter(status_code=429).count()))])


def _webhooks(now: Any) -> Iterator[Metric]:
    pending = WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).aggregate(
        n=Count("pk"), oldest=Min("received_at"))
    yield _gauge("notifyme_webhooks_pending", "Webhook deliveries received, not yet processed.",
                 [], [((), float(pending["n"] or 0))])
    yield _gauge("notifyme_webhook_lag_seconds",
                 "Age of the oldest unprocessed webhook delivery (0 when none).", [],
                 [((), _age_seconds(pending["oldest"], now))])
    slowest = WebhookEvent.objects.filter(
        received_at__gte=now - WEBHOOK_LAG_WINDOW, processed_at__isnull=False,
        state=WebhookEvent.State.PROCESSED,
    ).aggregate(lag=Max(ExpressionWrapper(F("processed_at") - F("received_at"),
                                          output_field=DurationField())))["lag"]
    yield _gauge("notifyme_webhook_processing_seconds_max",
                 "Longest receive-to-processed time of the last 5 minutes' webhooks.", [],
                 [((), slowest.total_seconds() if slowest else 0.0)])


def _redis_state() -> Iterator[Metric]:
    depth = GaugeMetricFamily("notifyme_queue_jobs", "RQ jobs by queue and registry.",
                              labels=["queue", "registry"])
    for name in settings.RQ_QUEUES:
        queue = nudges.queue(name)
        depth.add_metric([name, "queued"], float(queue.count))
        depth.add_metric([name, "started"], float(queue.started_job_registry.count))
        depth.add_metric([name, "failed"], float(queue.failed_job_registry.count))
    yield depth
    redis: Any = nudges.queue("default").connection
    yield _gauge("notifyme_delayed_nudges", "Nudges waiting for their time (rate-limit waits, "
                 "backoff, import polls).", [], [((), float(redis.zcard(nudges.DELAYED_KEY)))])
    accounts = {limiter_account(c) for c in KlaviyoConnection.objects.filter(
        status=KlaviyoConnection.Status.CONNECTED).only("account_id", "shop_id")}
    cooling = klaviyo_ratelimit.cooling_down_count(account_ids=accounts)
    yield _gauge("notifyme_klaviyo_accounts_cooling_down",
                 "Klaviyo accounts in a 429 cool-down now.", [], [((), float(cooling))])
    refused = signature_failures.global_counts(now=timezone.now())
    yield _gauge("notifyme_webhook_signature_failures",
                 "Webhook deliveries refused for a bad or missing signature, any claimed shop.",
                 ["window"], [(("24h",), float(refused.day if refused else 0)),
                              (("7d",), float(refused.week if refused else 0))])
    throttled = CounterMetricFamily("notifyme_shopify_throttled",
                                    "THROTTLED answers from Shopify's Admin API.")
    throttled.add_metric([], float(shopify_ratelimit.throttled_total()))
    yield throttled


SOURCES: dict[str, Callable[[Any], Iterable[Metric]]] = {
    "database": lambda now: [*_tenants(), *_subscriptions(), *_deliveries(now),
                             *_attempts(now), *_webhooks(now)],
    "redis": lambda now: list(_redis_state()),
}


class StateCollector(Collector):
    """Every metric above, one source at a time (see the module docstring)."""

    def collect(self) -> Iterable[Metric]:
        now = timezone.now()
        up = GaugeMetricFamily("notifyme_up", "Did the source answer this scrape?",
                               labels=["source"])
        took = GaugeMetricFamily("notifyme_scrape_source_seconds",
                                 "Time to read each source.", labels=["source"])
        families: list[Metric] = []
        for source, read in SOURCES.items():
            started = time.monotonic()
            try:
                families.extend(read(now))
                up.add_metric([source], 1.0)
            except Exception:
                logger.exception("metrics: %s did not answer", source)
                up.add_metric([source], 0.0)
            took.add_metric([source], time.monotonic() - started)
        return [*families, up, took]
