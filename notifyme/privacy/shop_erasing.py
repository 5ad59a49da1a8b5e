"""Erasing a whole shop (`shop/redact`), inside the caller's transaction.

Generic over the models, so a table added later is covered without touching this module:
every model whose foreign key to `Shop` cascades is counted (the audit's "how many rows"), and
deleting the Shop row takes them all (subscriptions and their outbox rows, deliveries and call
log, catalog, restocks, settings, the Klaviyo connection with its encrypted key, the Shopify
tokens on the row itself). A model whose key to Shop is SET_NULL keeps its rows by design,
unlinked: today only `WebhookEvent` (the delivery log; the webhook job clears the payloads of
the shop's finished events after a `shop/redact`, and they are pruned after 7/30 days).
`ComplianceRequest` rows are the exception: they are the audit that stays (their shop link is
cleared, the domain stays; their stored data-request subjects are wiped first). Redis: the
shop's rate-limit counters are deleted after the commit.
"""

from __future__ import annotations

import logging

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from notifyme.privacy.models import ComplianceRequest
from notifyme.shops.models import Shop
from notifyme.subscriptions import abuse

logger = logging.getLogger(__name__)


def _shop_keys() -> list[tuple[type[models.Model], models.ForeignKey]]:
    """(model, its foreign key to Shop) for every installed model but the audit."""
    found = []
    for model in apps.get_models():
        if model is ComplianceRequest:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is Shop:
                found.append((model, field))
    return found


def shop_erase(*, shop: Shop) -> dict[str, int]:
    """Delete every row of `shop` but its audit rows; returns {model label: rows}."""
    counts: dict[str, int] = {}
    for model, field in _shop_keys():
        if field.remote_field.on_delete is not models.CASCADE:
            continue
        count = model._default_manager.filter(**{field.name: shop}).count()
        if count:
            counts[model._meta.label_lower] = counts.get(model._meta.label_lower, 0) + count
    requests = ComplianceRequest.objects.filter(shop=shop)
    requests.exclude(state=ComplianceRequest.State.COMPLETED).update(
        state=ComplianceRequest.State.COMPLETED, completed_at=timezone.now())
    requests.update(subject_encrypted="", subject_expires_at=None, shop=None)
    shop_id = shop.pk
    shop.delete()
    counts["shops.shop"] = 1
    transaction.on_commit(lambda: _forget_redis(shop_id))
    return counts


def _forget_redis(shop_id: int) -> None:
    try:
        abuse.subscribe_shop_forget(shop_id=shop_id)
    except Exception:  # Redis down: the counters expire within their window anyway
        logger.warning("shop redact: Redis counters of shop %s not cleared (they expire)",
                       shop_id)
