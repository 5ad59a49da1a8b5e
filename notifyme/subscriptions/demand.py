"""Demand reads for the merchant's Demand page: who waits for what, and since when.

Every function is scoped to one shop (the caller's, from the ID token) and answers with a
constant number of queries whatever the catalog or waitlist size:

- `demand_by_variant`: one GROUP BY over the shop's waiting (active) subscriptions, then joined
  to their variant and product, ranked by subscribers waiting (or by revenue waiting), one
  page. Grouping before joining: the join costs one row per variant, not one per subscriber.
- `demand_totals`: the same grouping summed (subscribers, variants, revenue waiting).
- `signups_by_day`: one GROUP BY day (UTC) over the signups of the last N days, zeros filled in.

"Revenue waiting" is waiting subscribers times the variant's current price, in the shop's
currency: what the waitlist is worth if each of them buys one (the figure merchants rank
restocks by). Portable queries (PostgreSQL, and SQLite for `make run`); the
(shop, variant, status, created_at) index serves the shop prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from notifyme.catalog.facts import product_url
from notifyme.catalog.models import Product, Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription

SORTS = ("waiting", "revenue")


@dataclass(frozen=True)
class DemandRow:
    """One variant's waitlist (what the ranked table shows)."""

    rank: int
    variant_id: int
    shopify_variant_id: int
    shopify_product_id: int
    product_title: str
    variant_title: str
    sku: str
    image_url: str
    product_url: str
    price: Decimal
    waiting: int
    units_wanted: int
    revenue_waiting: Decimal
    available_quantity: int
    removed: bool
    first_signup_at: datetime
    last_signup_at: datetime

    @property
    def admin_url(self) -> str:
        """The variant in the Shopify admin (App Bridge opens `shopify://admin/...` links in
        the admin itself, outside the app's frame)."""
        return (f"shopify://admin/products/{self.shopify_product_id}"
                f"/variants/{self.shopify_variant_id}")

    def as_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank, "variant_id": self.variant_id,
            "shopify_variant_id": str(self.shopify_variant_id),
            "shopify_product_id": str(self.shopify_product_id),
            "product_title": self.product_title, "variant_title": self.variant_title,
            "sku": self.sku, "image_url": self.image_url, "product_url": self.product_url,
            "price": str(self.price), "waiting": self.waiting, "units_wanted": self.units_wanted,
            "revenue_waiting": str(self.revenue_waiting),
            "available_quantity": self.available_quantity, "removed": self.removed,
            "first_signup_at": self.first_signup_at.isoformat(),
            "last_signup_at": self.last_signup_at.isoformat(),
        }


# One GROUP BY over the shop's waiting subscriptions alone (the (shop, variant, status, …)
# index delivers them in variant order), joined to variants and products only for the page of
# ranked rows. Identifiers come from the models' _meta; every value is a parameter.
_DEMAND_SQL = """
SELECT d.variant_id, v.shopify_id, v.title, v.sku, v.price, v.image_url, v.available_quantity,
       v.removed_at, p.title, p.image_url, p.handle, p.shopify_id, d.waiting, d.units,
       d.first_at, d.last_at, d.waiting * v.price AS revenue
FROM (SELECT s.variant_id, COUNT(*) AS waiting, SUM(s.quantity_wanted) AS units,
             MIN(s.created_at) AS first_at, MAX(s.created_at) AS last_at
      FROM {subscription} s WHERE s.shop_id = %s AND s.status = %s GROUP BY s.variant_id) d
JOIN {variant} v ON v.id = d.variant_id
JOIN {product} p ON p.id = v.product_id
ORDER BY {order}, d.first_at, d.variant_id
LIMIT %s OFFSET %s
"""
_ORDER = {"waiting": "d.waiting DESC, revenue DESC", "revenue": "revenue DESC, d.waiting DESC"}


def _aware(value: datetime | str) -> datetime:
    """A timestamp from a raw row (SQLite hands back text) as an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def demand_by_variant(*, shop: Shop, sort: str = "waiting", limit: int = 50,
                      offset: int = 0) -> list[DemandRow]:
    """The shop's variants with at least one waiting subscriber, most wanted first (ties: the
    higher revenue, then the longest waiting), `limit` rows from `offset`."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}")
    sql = _DEMAND_SQL.format(
        subscription=Subscription._meta.db_table, variant=Variant._meta.db_table,
        product=Product._meta.db_table, order=_ORDER[sort])
    with connection.cursor() as cursor:
        cursor.execute(sql, [shop.pk, Subscription.Status.ACTIVE, limit, offset])
        rows = cursor.fetchall()
    cents = Decimal("0.01")
    return [
        DemandRow(
            rank=offset + index, variant_id=variant_id, shopify_variant_id=int(shopify_id),
            shopify_product_id=int(product_shopify_id),
            product_title=product_title, variant_title=variant_title, sku=sku,
            image_url=image_url or product_image,
            product_url=product_url(domain=shop.domain, handle=handle, variant_id=shopify_id),
            price=Decimal(str(price)).quantize(cents), waiting=int(waiting),
            units_wanted=int(units or 0),
            revenue_waiting=Decimal(str(revenue)).quantize(cents),
            available_quantity=int(available), removed=removed_at is not None,
            first_signup_at=_aware(first_at), last_signup_at=_aware(last_at),
        )
        for index, (variant_id, shopify_id, variant_title, sku, price, image_url, available,
                    removed_at, product_title, product_image, handle, product_shopify_id, waiting,
                    units, first_at, last_at, revenue) in enumerate(rows, start=1)
    ]


_TOTALS_SQL = """
SELECT COUNT(*), COALESCE(SUM(d.waiting), 0), COALESCE(SUM(d.waiting * v.price), 0)
FROM (SELECT s.variant_id, COUNT(*) AS waiting FROM {subscription} s
      WHERE s.shop_id = %s AND s.status = %s GROUP BY s.variant_id) d
JOIN {variant} v ON v.id = d.variant_id
"""


def demand_totals(*, shop: Shop) -> dict[str, Any]:
    """Subscribers waiting, variants awaited and the revenue waiting over all of them (the same
    grouping as `demand_by_variant`, so the totals are the sums of its rows)."""
    sql = _TOTALS_SQL.format(subscription=Subscription._meta.db_table,
                             variant=Variant._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [shop.pk, Subscription.Status.ACTIVE])
        variants, waiting, revenue = cursor.fetchone()
    return {"waiting": int(waiting), "variants": int(variants),
            "revenue_waiting": Decimal(str(revenue)).quantize(Decimal("0.01"))}


def demand_variant_get(*, shop: Shop, variant_id: int) -> Variant | None:
    """The shop's variant `variant_id` (our id), or None: another shop's id finds nothing."""
    return Variant.objects.filter(shop=shop, pk=variant_id).select_related("product").first()


def signups_by_day(*, shop: Shop, days: int, variant: Variant | None = None,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """Signups (every subscription the shop received, whatever became of it) per UTC day for
    the last `days` days including today, oldest first, days without a signup as 0; of one
    `variant` of the shop when given."""
    today = (now or timezone.now()).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    signups = Subscription.objects.filter(shop=shop, created_at__gte=start)
    if variant is not None:
        signups = signups.filter(variant=variant)
    counts: dict[date, int] = {
        row["day"]: row["n"]
        for row in signups.annotate(day=TruncDate("created_at", tzinfo=UTC)).values("day")
        .annotate(n=Count("id")).order_by()
    }
    return [{"date": (first + timedelta(days=i)).isoformat(),
             "signups": counts.get(first + timedelta(days=i), 0)} for i in range(days)]
