"""Reads of subscriptions (writes live in services.py)."""

from __future__ import annotations

import re

from django.db.models import Count, Q

from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: What a storefront signup reads of the variant: whether it takes alerts, its label.
SIGNUP_VARIANT_FIELDS = ("id", "shop_id", "product_id", "shopify_id", "title",
                         "inventory_tracked", "inventory_policy", "available_quantity",
                         "removed_at", "product__id", "product__title")


def subscription_find_active(
    *, shop: Shop, variant: Variant, email: str = "", phone: str = ""
) -> Subscription | None:
    """The active subscription for shop + variant + (email or phone), if any."""
    contact = Q()
    if email:
        contact |= Q(email=email)
    if phone:
        contact |= Q(phone=phone)
    if not contact:
        return None
    return (
        Subscription.objects.filter(shop=shop, variant=variant, status=Subscription.Status.ACTIVE)
        .filter(contact)
        .order_by("created_at")
        .first()
    )


def subscription_get_by_token(*, token: str, shop: Shop | None = None) -> Subscription | None:
    """The subscription an unsubscribe link names, limited to `shop` when the request is signed."""
    if not TOKEN_RE.fullmatch(token or ""):
        return None  # also keeps NUL and other junk away from the database
    queryset = Subscription.objects.select_related("shop", "variant__product")
    if shop is not None:
        queryset = queryset.filter(shop=shop)
    return queryset.filter(unsubscribe_token=token).first()


def variant_get_for_shop(*, shop: Shop, shopify_id: int) -> Variant | None:
    """The shop's variant with this Shopify id; never another shop's (tenant isolation)."""
    # The storefront's hot path: get(), not first() ((shop, shopify_id) is unique, an ORDER BY
    # is pure cost), and only the columns the signup reads (building the SQL for every column
    # of the variant and its product was a fifth of a signup's CPU). A signup's query count is
    # pinned by a test, so reading a deferred field here would fail it, not slow it silently.
    try:
        return (Variant.objects.select_related("product").only(*SIGNUP_VARIANT_FIELDS)
                .get(shop=shop, shopify_id=shopify_id))
    except Variant.DoesNotExist:
        return None


def subscription_sync_counts(*, shop: Shop) -> dict[str, int]:
    """Subscribers waiting to sync / synced / failed (redacted ones are not counted)."""
    states = Subscription.SyncState
    counts = Subscription.objects.filter(shop=shop).exclude(
        status=Subscription.Status.REDACTED
    ).aggregate(
        pending=Count("pk", filter=Q(sync_state=states.PENDING)),
        synced=Count("pk", filter=Q(sync_state=states.SYNCED)),
        failed=Count("pk", filter=Q(sync_state=states.FAILED)),
    )
    return {name: int(value or 0) for name, value in counts.items()}


def variants_awaited(*, shop: Shop) -> list[int]:
    """Ids of the shop's variants with at least one active (waiting) subscription (the
    catalog's `awaited_variants` hook: reconciliation re-reads their stock)."""
    return list(Subscription.objects.filter(shop=shop, status=Subscription.Status.ACTIVE)
                .values_list("variant_id", flat=True).distinct())
