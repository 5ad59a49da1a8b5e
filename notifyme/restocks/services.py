"""Restock detection and start: a stock change in, a `Restock` with its deliveries out.

The catalog owns stock writes (`notifyme.catalog.services.variant_update_stock`); this app
registers `restock_detect` on the catalog's `stock_changed` hook (see `apps.py`), so detection
runs inside the stock write's transaction, with the variant row locked: when the variant's
sellable quantity rises to the shop's threshold after it had sold out, a restock starts — only
for a product published to the Online Store and not removed in Shopify (a hidden product's
variant stays armed; publishing it with stock re-runs detection, see catalog.mirror).
`restock_start` writes the `Restock` and the first chunk of its `RestockDelivery` rows (one per
active subscription, oldest first) in that transaction with one INSERT … SELECT (nothing is
loaded into Python), then nudges the fan-out on commit; the materialiser writes the rest while
the first events go (`notifyme.restocks.materialise`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from notifyme.catalog.hooks import StockChange
from notifyme.catalog.models import Variant
from notifyme.catalog.services import StockUpdate
from notifyme.delivery import conf
from notifyme.restocks import batches, jobs, materialise, nudging, sql
from notifyme.restocks.models import Restock, RestockDelivery, RestockSettings, StockWatch
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestockDetection:
    """What a stock change meant for restocks: the restock it started, or why it started none
    (a `catalog.hooks.StockReaction`)."""

    restock: Restock | None = None
    reason: str = ""

    @property
    def acted(self) -> bool:
        return self.restock is not None

    def describe(self) -> str:
        if self.restock is not None:
            r = self.restock
            noun = "subscriber" if r.total == 1 else "subscribers"
            text = f"restock #{r.pk} started: {r.total} {noun}"
            if r.materialising:
                text += " so far (the rest are being added)"
            if r.skipped:
                text += f" ({r.skipped} skipped: notified within the cool-down)"
            if r.send_mode == RestockSettings.SendMode.BATCHED:
                text += f", sending in batches of {r.batch_size}"
            return text
        return f"no restock: {self.reason}"


def detection_of(update: StockUpdate) -> RestockDetection:
    """The restock detection of a catalog stock update (raises if detection did not run)."""
    detection = update.reaction(RestockDetection)
    if detection is None:
        raise LookupError("restock detection is not registered on catalog.hooks.stock_changed")
    return detection


def restock_settings_get(*, shop: Shop) -> RestockSettings:
    """The shop's settings row, created with the defaults on first use."""
    settings, _ = RestockSettings.objects.get_or_create(shop=shop)
    return settings


#: The settings a merchant (or support, in the admin) may change.
SETTINGS_FIELDS = ("threshold", "cooldown_hours", "send_mode", "subscribers_per_unit",
                   "batch_interval_minutes")


@transaction.atomic
def restock_settings_update(*, shop: Shop, **changes: object) -> RestockSettings:
    """Change some of `SETTINGS_FIELDS` for `shop` (validated; ValidationError on a bad value).

    A running restock keeps the send mode it started with; its later batches read the rest."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not a restock setting: {', '.join(sorted(unknown))}")
    restock_settings_get(shop=shop)
    settings = RestockSettings.objects.select_for_update().get(shop=shop)
    for name, value in changes.items():
        setattr(settings, name, value)
    settings.full_clean()
    settings.save(update_fields=[*changes, "updated_at"])
    return settings


def restock_cancel(*, restock: Restock) -> int:
    """Support's "Cancel": stop a running restock; its unsent, unleased deliveries are skipped
    (returns how many). Deliveries already leased by a fan-out job finish as they go."""
    return batches.restock_cancel(restock=restock)


UNINSTALLED_REASON = ("Cancelled: the app was uninstalled. The subscriber is still waiting and "
                      "is notified at the next restock after a reinstall.")


def restocks_stop_for_uninstall(*, shop: Shop) -> str | None:
    """The `shop_uninstalled` hook: cancel the shop's unfinished restocks with the reason.

    Cancelled rather than paused: a reinstall may come days later, when the stock that
    started the restock is long gone; the unsent subscribers stay active, so the next restock
    after a reinstall notifies them. Deliveries a fan-out job already holds finish (one call
    in flight at most); the fan-out refuses an uninstalled shop's next chunk."""
    unfinished = Restock.objects.filter(
        shop=shop, state__in=[Restock.State.RUNNING, Restock.State.PAUSED_SOLD_OUT])
    cancelled = 0
    for restock in unfinished:
        batches.restock_cancel(restock=restock, reason=UNINSTALLED_REASON)
        cancelled += 1
    return f"{cancelled} restocks cancelled" if cancelled else None


def restock_threshold(*, shop: Shop) -> int:
    """The quantity that counts as back in stock for this shop (a catalog hook)."""
    return restock_settings_get(shop=shop).threshold


def restock_detect(*, change: StockChange) -> RestockDetection:
    """The catalog's `stock_changed` hook: start a restock when the change counts as one.

    A restock starts when the variant is tracked with the "deny" policy, its product is
    published to the Online Store and not removed, the variant had sold out (≤ 0)
    since its last restock, and now has at least the shop's threshold. A rise that stays below
    the threshold keeps the variant armed, so a later rise to the threshold still counts. Runs
    in the stock write's transaction with the variant row locked, so two concurrent webhooks
    cannot both start one.
    """
    watch, _ = StockWatch.objects.select_for_update().get_or_create(
        variant=change.variant, defaults={"armed": change.previous_quantity <= 0}
    )
    return _detect(change.variant, watch, change.previous_quantity, change.quantity)


def _refusal(variant: Variant) -> str:
    """Why this variant can never restock as it is now ("" when it can): stock that is not
    tracked or keeps selling, or a product shoppers cannot reach (not published to the Online
    Store, or removed in Shopify)."""
    product = variant.product
    if not variant.inventory_tracked:
        return "the variant's inventory is not tracked"
    if variant.inventory_policy != Variant.InventoryPolicy.DENY:
        return "the variant keeps selling when out of stock"
    if product.removed_at is not None or variant.removed_at is not None:
        return "the product or variant was removed in Shopify"
    if not product.published_online:
        return "the product is not published to the Online Store"
    return ""


def _detect(variant: Variant, watch: StockWatch, previous: int, quantity: int
            ) -> RestockDetection:
    def outcome(reason: str, restock: Restock | None = None) -> RestockDetection:
        return RestockDetection(restock, reason)

    if quantity <= 0:
        if not watch.armed:
            watch.armed, watch.sold_out_at = True, timezone.now()
            watch.save(update_fields=["armed", "sold_out_at", "updated_at"])
        return outcome(f"quantity {quantity} is not in stock")
    refusal = _refusal(variant)
    if refusal:
        return outcome(refusal)  # the watch stays armed: a later write may still count
    if not watch.armed:
        return outcome(f"the variant was already in stock ({previous})")
    threshold = restock_settings_get(shop=variant.shop).threshold
    if quantity < threshold:
        return outcome(f"quantity {quantity} is below the restock threshold {threshold}")
    watch.armed = False
    watch.save(update_fields=["armed", "updated_at"])
    restock = restock_start(variant=variant)
    if restock is None:
        return outcome("no active subscribers are waiting for this variant")
    return outcome("", restock)


def restock_start(*, variant: Variant, quantity: int | None = None) -> Restock | None:
    """Create a running restock and its first deliveries (oldest subscription first); None if
    nobody is waiting.

    Runs in one transaction (joining the caller's). The restock's subscribers are the variant's
    active subscriptions with an id up to the highest committed now; the first
    `RESTOCK_FIRST_CHUNK` of them get their rows here, the rest are written in the background
    while the fan-out sends (`notifyme.restocks.materialise`). Contacts notified for this
    variant within the shop's cool-down get a `skipped` row instead of a second alert;
    subscribers still in flight in an earlier unfinished restock stay with it; subscribers whose
    turn had not come in an earlier paused/batched restock (or not written yet by its
    materialiser) move into this one, keeping their place. The fan-out (and the materialiser)
    are nudged only after the transaction commits.
    """
    if not Subscription.objects.filter(shop_id=variant.shop_id, variant=variant,  # the index
                                       status=Subscription.Status.ACTIVE).exists():
        # Most variants that come back have nobody waiting (a warehouse import touches the whole
        # catalog): one indexed probe instead of creating and deleting a restock.
        return None
    settings = restock_settings_get(shop=variant.shop)
    quantity = variant.available_quantity if quantity is None else quantity
    now = timezone.now()
    batched = settings.send_mode == RestockSettings.SendMode.BATCHED
    with transaction.atomic():
        restock = Restock.objects.create(
            shop_id=variant.shop_id, variant=variant, quantity=quantity,
            send_mode=settings.send_mode, started_at=now,
            batch_size=max(1, quantity * settings.subscribers_per_unit) if batched else None,
            subscription_ceiling=sql.subscription_ceiling(connection),
        )
        _take_over_waiting(variant=variant, restock=restock, now=now)
        cutoff = now - timedelta(hours=settings.cooldown_hours)
        restock.cooldown_since = cutoff if _recently_restocked(variant, restock, cutoff) else None
        restock.exclude_in_flight = _has_in_flight(variant, restock)
        restock.save(update_fields=["cooldown_since", "exclude_in_flight"])
        materialise.write_first(restock=restock, now=now)
        if restock.materialised == 0 and not restock.materialising:
            restock.delete()
            return None
        if restock.total == 0 and not restock.materialising:
            batches.restock_finish(restock=restock, now=now)
        elif batched:
            batches.release_batch(restock=restock, now=now, size=restock.batch_size or 1)
        transaction.on_commit(lambda: _nudge(restock.pk, materialise=restock.materialising,
                                             total=restock.total))
    logger.info("restock %s started for variant %s: %s to send, %s skipped%s",
                restock.pk, variant.pk, restock.total, restock.skipped,
                " so far (materialising the rest)" if restock.materialising else "")
    return restock


def _recently_restocked(variant: Variant, restock: Restock, cutoff: datetime) -> bool:
    """Could any contact have been notified for this variant since `cutoff`? (Skips the
    cool-down join, the costly part of the insert, for the common first restock.)"""
    return Restock.objects.filter(variant=variant).exclude(pk=restock.pk).filter(
        Q(finished_at__isnull=True) | Q(finished_at__gte=cutoff)
    ).exists()


def _has_in_flight(variant: Variant, restock: Restock) -> bool:
    """Are released, unsent deliveries of an earlier unfinished restock still being sent?"""
    return RestockDelivery.objects.filter(
        restock__variant=variant, restock__state__in=[Restock.State.RUNNING,
                                                      Restock.State.PAUSED_SOLD_OUT],
        state=RestockDelivery.State.PENDING, available_at__isnull=False,
    ).exclude(restock=restock).exists()


def _take_over_waiting(*, variant: Variant, restock: Restock, now: datetime) -> None:
    """Rows of earlier restocks whose batch never came are skipped here and re-queued in
    `restock` (their subscriptions are still active, so the insert picks them up in order);
    earlier restocks still materialising stop (the rest of their subscribers come here)."""
    earlier = Restock.objects.filter(
        variant=variant, state__in=[Restock.State.RUNNING, Restock.State.PAUSED_SOLD_OUT]
    ).exclude(pk=restock.pk)
    for old in earlier.select_for_update():
        moved = RestockDelivery.objects.filter(
            restock=old, state=RestockDelivery.State.PENDING, available_at__isnull=True
        ).update(state=RestockDelivery.State.SKIPPED,
                 last_error=f"Moved to restock #{restock.pk} (kept its place in line).")
        if moved:
            old.total -= moved
            old.skipped += moved
            old.save(update_fields=["total", "skipped"])
        # Its subscribers not written yet are active and not in flight: this restock takes
        # them (a chunk of its materialiser racing this lock rolls back).
        batches.close_materialisation(restock=old, now=now)
        batches.restock_finish_if_done(restock=old, now=now)


def _nudge(restock_id: int, *, materialise: bool, total: int) -> None:
    # A restock whose rows are all written gets no more chains than it has chunks: every chain
    # takes a slot of Klaviyo's bulk-events limit (150/min per account) before it claims, so
    # four chains for a three-subscriber restock spent four slots on one call, and a burst of
    # small restocks waited for Klaviyo's window (bench/webhook_to_event.py).
    chains = None if materialise else max(
        1, min(conf.restock_chains(), math.ceil(total / conf.restock_chunk_size())))
    jobs.fanout_nudge(restock_id=restock_id, chains=chains)  # first: before the rest is written
    if materialise:
        nudging.materialise_nudge(restock_id=restock_id)
