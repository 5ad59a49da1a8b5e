"""Reads of the support audit, for the board's shop page and `doctor` (h-board may call these)."""

from __future__ import annotations

from django.db.models import QuerySet

from notifyme.shops.models import Shop
from notifyme.support.models import SupportAction


def actions_for_shop(*, shop: Shop, limit: int = 20) -> QuerySet[SupportAction]:
    """The shop's latest support actions, newest first (who, when, what, outcome)."""
    return SupportAction.objects.filter(shop=shop).order_by("-created_at", "-id")[:limit]
