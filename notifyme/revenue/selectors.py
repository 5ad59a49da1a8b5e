"""Recovered revenue reads: the merchant's report, per restock, per product and per month.

A line counts when the order came at most `window_days` after its alert (the shop's window,
`AttributionSettings`, default 7). Amounts are per currency (an order's currency is the shop's
at the time; a shop that changed currency sees one row per currency), as strings with two
decimals. `orders` counts distinct orders: an order with lines from two restocks counts once
in the totals and once under each restock, so per-restock counts may add up to more than the
total while the amounts always add up. Lists are capped (`LIMIT`) with the newest or largest
first; the totals cover everything.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from notifyme.revenue.models import DEFAULT_WINDOW_DAYS, AttributionSettings, RecoveredLine
from notifyme.shops.models import Shop

LIMIT = 100
RECENT = 20
DIRECT = Q(order__channel="direct")
ASSISTED = Q(order__channel="assisted")


def attribution_window(*, shop: Shop) -> int:
    """The shop's window in days (the default until the merchant saves one)."""
    row = AttributionSettings.objects.filter(shop=shop).values_list("window_days", flat=True)
    return next(iter(row), DEFAULT_WINDOW_DAYS)


def lines_in_window(*, shop: Shop, window_days: int) -> QuerySet[RecoveredLine]:
    """The shop's attributed lines whose order came within `window_days` of the alert and was
    not cancelled since."""
    return RecoveredLine.objects.filter(
        order__shop=shop, order__cancelled_at__isnull=True,
        notified_at__gte=F("order__ordered_at") - timedelta(days=window_days))


def _money(value: Decimal | None) -> str:
    return f"{value or Decimal(0):.2f}"


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {"currency": row["order__currency"], "orders": row["orders"],
            "direct_orders": row["direct_orders"], "assisted_orders": row["assisted_orders"],
            "units": row["units"] or 0, "direct": _money(row["direct"]),
            "assisted": _money(row["assisted"]), "total": _money(row["total"])}


def _grouped(lines: QuerySet[RecoveredLine], *keys: str) -> QuerySet[Any]:
    return lines.values(*keys, "order__currency").annotate(
        orders=Count("order", distinct=True),
        direct_orders=Count("order", distinct=True, filter=DIRECT),
        assisted_orders=Count("order", distinct=True, filter=ASSISTED),
        units=Sum("quantity"), direct=Sum("amount", filter=DIRECT),
        assisted=Sum("amount", filter=ASSISTED), total=Sum("amount"))


def _by_restock(lines: QuerySet[RecoveredLine]) -> list[dict[str, Any]]:
    rows = _grouped(lines, "restock_id", "restock__started_at", "restock__sent",
                    "restock__variant__title", "restock__variant__product__title") \
        .order_by("-restock__started_at", "-restock_id")[:LIMIT]
    return [{"restock_id": row["restock_id"], "started_at": row["restock__started_at"]
             .isoformat(), "product_title": row["restock__variant__product__title"],
             "variant_title": row["restock__variant__title"], "alerts_sent": row["restock__sent"],
             "conversion": round(row["orders"] / row["restock__sent"], 4)
             if row["restock__sent"] else None, **_figures(row)} for row in rows]


def _by_product(lines: QuerySet[RecoveredLine]) -> list[dict[str, Any]]:
    rows = _grouped(lines, "restock__variant__product__shopify_id",
                    "restock__variant__product__title").order_by("-total")[:LIMIT]
    return [{"product_id": row["restock__variant__product__shopify_id"],
             "product_title": row["restock__variant__product__title"], **_figures(row)}
            for row in rows]


def _by_month(lines: QuerySet[RecoveredLine]) -> list[dict[str, Any]]:
    rows = _grouped(lines.annotate(month=TruncMonth("order__ordered_at", tzinfo=UTC)),
                    "month").order_by("-month")[:24]
    return [{"month": row["month"].strftime("%Y-%m"), **_figures(row)} for row in rows]


def _recent(*, shop: Shop, lines: QuerySet[RecoveredLine]) -> list[dict[str, Any]]:
    rows = lines.values("order__shopify_id", "order__name", "order__ordered_at",
                        "order__channel", "order__currency").annotate(
        total=Sum("amount"), units=Sum("quantity"), notified=Max("notified_at"),
        product=Max("restock__variant__product__title"),
    ).order_by("-order__ordered_at", "-order__shopify_id")[:RECENT]
    return [{"order_id": row["order__shopify_id"],
             "name": row["order__name"] or str(row["order__shopify_id"]),
             "admin_url": f"https://{shop.domain}/admin/orders/{row['order__shopify_id']}",
             "ordered_at": row["order__ordered_at"].isoformat(),
             "channel": row["order__channel"], "currency": row["order__currency"],
             "units": row["units"], "total": _money(row["total"]), "product_title": row["product"],
             "hours_after_alert": round((row["order__ordered_at"] - row["notified"])
                                        .total_seconds() / 3600, 1)} for row in rows]


def revenue_report(*, shop: Shop, window_days: int | None = None) -> dict[str, Any]:
    """The merchant's report (JSON-ready): window, totals per currency, by restock, by
    product, by month (UTC months) and the latest attributed orders."""
    window = window_days if window_days is not None else attribution_window(shop=shop)
    lines = lines_in_window(shop=shop, window_days=window)
    totals = [_figures(row) for row in _grouped(lines).order_by("order__currency")]
    return {"window_days": window, "totals": totals, "by_restock": _by_restock(lines),
            "by_product": _by_product(lines), "by_month": _by_month(lines),
            "recent_orders": _recent(shop=shop, lines=lines)}
