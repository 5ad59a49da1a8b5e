"""Running one catalog sync: Admin GraphQL → snapshots → the catalog services, resumably.

Order: count the catalog (`CatalogCounts`: the progress bar's total, and `auto` picks paging
up to `BULK_THRESHOLD_VARIANTS` variants, a bulk operation above), apply the locations, then
the products with their per-location levels. The levels are read before their products are
applied, so a variant the sync creates starts at its sellable quantity (`Levels.quantified`);
otherwise every variant of a new shop would go 0 → n and restock detection would see a
restock each. Paging: each page of products (`products_page`, every variant included) and its
variants' levels (`variants_inventory`). Bulk: two exports, every variant's levels
(`BULK_VARIANT_LEVELS_QUERY`, kept in memory) and then the catalog (products + variants),
because a bulk query nests at most two levels of connections. Both paths convert through
`notifyme.catalog.graphql`, so paging and bulk write the same mirror. Everything applied is
newer-only (`product_apply`, `inventory_levels_apply`), so a page or a chunk applied twice —
after a crash, or by a resumed job — changes nothing. Each page or chunk goes through
`batch.catalog_apply_batch`: products new to the mirror are inserted in bulk, the others take
`product_apply` / `inventory_levels_apply` (so stock changes still reach restock detection);
on a re-sync, mirrored products and levels that did not change are skipped (`resync`). A sync
that read the whole catalog then marks removed the mirrored products it did not see
(`products_vanished_remove`); a paging sync keeps the products it read in `CatalogSyncSeen`,
written before each page's resume point, so a job that resumes it mid-way knows them too.

The job holds the row with a fenced lease: `_claim` takes it (a fresh token) only when it is
unfinished and not held by a live job, and every progress write is `UPDATE ... WHERE
lease_token = <mine>`; zero rows means another job took over (or the shop was uninstalled) and
this one stops (`LeaseLost`) without another write. Progress is written every page (paging) or
every `CHUNK_PRODUCTS` products (bulk), with the resume point (`cursor` / `done_products`).
Shopify unavailable: the row is handed back (lease cleared) for the sweeper to resume, up to
`MAX_ATTEMPTS` jobs; other Shopify errors (re-auth needed, a failed bulk operation, bad data)
fail the sync with one sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.shopify import catalog as shopify_catalog
from integrations.shopify import documents
from integrations.shopify.client import AdminClient
from integrations.shopify.errors import ReauthRequired, ShopifyError, ShopifyUnavailable
from notifyme.catalog import graphql
from notifyme.catalog.models import Location
from notifyme.catalog.resync import products_vanished_remove
from notifyme.catalog.selectors import alert_locations_get, counted_locations
from notifyme.catalog.services import catalog_apply_batch, locations_apply
from notifyme.catalog.snapshots import LevelSnapshot, ProductSnapshot
from notifyme.catalog.sync_models import CatalogSync, CatalogSyncSeen
from notifyme.delivery.leasing import new_token
from notifyme.shops.models import Shop

logger = logging.getLogger(__name__)

BULK_THRESHOLD_VARIANTS = 2000
CHUNK_PRODUCTS = 250
#: Products per page when paging (each with every variant; the client keeps pages cheap).
PAGE_PRODUCTS = shopify_catalog.PRODUCTS_PER_PAGE
BULK_POLL_SECONDS = 1.0
BULK_MAX_WAIT_SECONDS = 3000.0
MAX_ATTEMPTS = 5
Mode = CatalogSync.Mode
State = CatalogSync.State


class LeaseLost(Exception):
    """Another job holds the sync now (or it was stopped): this one writes nothing more."""


@dataclass
class Run:
    sync: CatalogSync
    token: str
    client: AdminClient
    cost_base: int
    on_progress: Callable[[CatalogSync], None] | None = None
    #: The product ids this job read (a paging sync also keeps them in `CatalogSyncSeen`).
    seen: set[int] = field(default_factory=set)

    def save(self, **fields: Any) -> None:
        """A fenced progress write (heartbeat and cost points included)."""
        fields.update(heartbeat_at=timezone.now(),
                      cost_points=self.cost_base + int(self.client.cost_used))
        held = CatalogSync.objects.filter(pk=self.sync.pk, lease_token=self.token,
                                          state=State.RUNNING)
        if held.update(**fields) == 0:
            raise LeaseLost(self.sync.pk)
        for name, value in fields.items():
            setattr(self.sync, name, value)
        if self.on_progress is not None:
            self.on_progress(self.sync)


def _claim(sync_id: int, token: str, stale_seconds: float) -> CatalogSync | None:
    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    with transaction.atomic():
        sync = (CatalogSync.objects.select_for_update(skip_locked=True)
                .select_related("shop").filter(pk=sync_id).first())
        if sync is None or sync.finished or sync.shop.state != Shop.State.INSTALLED:
            return None
        live = sync.lease_token and sync.heartbeat_at and sync.heartbeat_at > cutoff
        if live:
            return None
        sync.state, sync.lease_token, sync.heartbeat_at = State.RUNNING, token, timezone.now()
        sync.started_at = sync.started_at or timezone.now()
        sync.attempts += 1
        sync.save(update_fields=["state", "lease_token", "heartbeat_at", "started_at",
                                 "attempts", "updated_at"])
    return sync


def catalog_sync_run(
    *, sync_id: int, stale_seconds: float = 120.0,
    on_progress: Callable[[CatalogSync], None] | None = None,
) -> CatalogSync | None:
    """Run (or resume) sync `sync_id` to its end; None when another job holds it or it is
    finished. Never raises for Shopify's answers: they end up on the row. `on_progress(sync)`
    runs after every progress write (the command's progress bar)."""
    token = new_token()
    sync = _claim(sync_id, token, stale_seconds)
    if sync is None:
        return None
    run = Run(sync, token, AdminClient(sync.shop), cost_base=sync.cost_points,
              on_progress=on_progress)
    try:
        _run(run)
    except LeaseLost:
        logger.info("catalog sync %s: lease lost, stopping", sync_id)
        return None
    except ShopifyUnavailable as error:
        _hand_back(run, error)
    except ReauthRequired:
        _finish(run, State.FAILED, "Shopify refused the app's access: open the app in your "
                "Shopify admin again to re-authorize it.")
    except (ShopifyError, graphql.CatalogDataError) as error:
        _finish(run, State.FAILED, f"Shopify's catalog could not be read: {_sentence(error)}")
    sync.refresh_from_db()
    return sync


def _sentence(error: Exception) -> str:
    """One line, no payload: the error's own sentence, or its kind."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:400]


def _hand_back(run: Run, error: Exception) -> None:
    if run.sync.attempts >= MAX_ATTEMPTS:
        _finish(run, State.FAILED, "Shopify did not answer; try the sync again later.")
        return
    logger.warning("catalog sync %s: Shopify unavailable (%s); the sweeper resumes it",
                   run.sync.pk, type(error).__name__)
    try:
        run.save(lease_token="", heartbeat_at=None,
                 error="Shopify is not answering; the sync resumes in a few minutes.")
    except LeaseLost:
        pass


def _finish(run: Run, state: str, error: str = "") -> None:
    try:
        run.save(state=state, error=error, lease_token="", finished_at=timezone.now())
    except LeaseLost:
        return
    CatalogSyncSeen.objects.filter(sync=run.sync).delete()  # only a running sync needs them


def _run(run: Run) -> None:
    sync = run.sync
    if sync.total_variants is None:
        counts = shopify_catalog.catalog_counts(run.client)
        mode = sync.requested_mode
        if mode == Mode.AUTO:
            mode = Mode.BULK if counts.variants > BULK_THRESHOLD_VARIANTS else Mode.PAGING
        run.save(total_products=counts.products, total_variants=counts.variants, mode=mode)
        locations = shopify_catalog.locations(run.client)
        locations_apply(shop=sync.shop,
                        locations=[graphql.location_snapshot(n) for n in locations])
    if sync.mode == Mode.BULK:
        _run_bulk(run)
        seen = run.seen
    else:
        _run_paging(run)
        seen = set(CatalogSyncSeen.objects.filter(sync=sync)
                   .values_list("shopify_id", flat=True))
    # An empty read is taken for a fault (Shopify answered nothing), never for a shop that
    # deleted every product.
    if seen and sync.started_at is not None:
        run.save()  # fenced: a job that lost the sync removes nothing
        removed = products_vanished_remove(shop=sync.shop, seen=seen, before=sync.started_at)
        if removed:
            logger.info("catalog sync %s: %d product(s) gone from Shopify marked removed",
                        sync.pk, removed)
    _finish(run, State.SUCCEEDED)


@dataclass
class Levels:
    """Per-location levels by inventory item, and which locations count for the shop: so a
    variant the sync creates gets its sellable quantity at once (no 0 → n stock write, which
    restock detection would see as a restock of every variant of a new shop)."""

    by_item: dict[int, list[LevelSnapshot]]
    counted: set[int]
    known: set[int]
    default_mode: bool

    @classmethod
    def of(cls, shop: Shop, levels: Iterable[LevelSnapshot]) -> Levels:
        by_item: dict[int, list[LevelSnapshot]] = {}
        for level in levels:
            by_item.setdefault(level.inventory_item_id, []).append(level)
        counted = set(Location.objects.filter(counted_locations(shop=shop), shop=shop)
                      .values_list("shopify_id", flat=True))
        known = set(Location.objects.filter(shop=shop).values_list("shopify_id", flat=True))
        return cls(by_item, counted, known, alert_locations_get(shop=shop) is None)

    def counts(self, location_id: int) -> bool:
        # A location no list described yet counts by default (as `inventory_levels_apply`).
        return location_id in self.counted or (self.default_mode
                                               and location_id not in self.known)

    def quantified(self, snapshot: ProductSnapshot) -> ProductSnapshot:
        variants = tuple(
            replace(v, quantity=sum(lv.available for lv in self.by_item[v.inventory_item_id]
                                    if self.counts(lv.location_id)))
            if v.inventory_item_id in self.by_item else v for v in snapshot.variants)
        return replace(snapshot, variants=variants)

    def of_products(self, snapshots: Iterable[ProductSnapshot]) -> list[LevelSnapshot]:
        return [lv for p in snapshots for v in p.variants
                for lv in self.by_item.get(v.inventory_item_id or -1, ())]


def _apply_products(run: Run, products: Iterable[dict[str, Any]], levels: Levels
                    ) -> tuple[int, int, int]:
    """Apply product nodes (page shape), each variant created with its sellable quantity,
    then their levels; returns (products, variants, inventory items) applied."""
    snapshots = [levels.quantified(graphql.product_snapshot(node)) for node in products]
    run.seen.update(p.shopify_id for p in snapshots)
    applied = levels.of_products(snapshots)
    catalog_apply_batch(shop=run.sync.shop, products=snapshots, levels=applied)
    items = {lv.inventory_item_id for lv in applied}
    return len(snapshots), sum(len(p.variants) for p in snapshots), len(items)


def _run_paging(run: Run) -> None:
    """Pages of products (each with all its variants) and the page's per-location levels
    (`variants_inventory`), applied together, then the resume point."""
    cursor = run.sync.cursor or None
    while True:
        page = shopify_catalog.products_page(run.client, after=cursor, first=PAGE_PRODUCTS)
        ids = [graphql.numeric_id(v, "variant.id") for p in page.products
               for v in graphql.connection_nodes(p.get("variants"))]
        nodes = shopify_catalog.variants_inventory(run.client, variant_ids=ids) if ids else []
        levels = Levels.of(run.sync.shop, graphql.level_snapshots({"variants": {"nodes": nodes}}))
        done, variants, items = _apply_products(run, page.products, levels)
        # Before the resume point moves past the page: a job resuming after it knows its products.
        CatalogSyncSeen.objects.bulk_create(
            [CatalogSyncSeen(sync=run.sync, shopify_id=graphql.numeric_id(p, "product.id"))
             for p in page.products], ignore_conflicts=True)
        cursor = page.end_cursor or cursor
        run.save(cursor=cursor or "", done_products=run.sync.done_products + done,
                 done_variants=run.sync.done_variants + variants,
                 done_levels=run.sync.done_levels + items)
        if not page.has_next or not page.products:
            return


def _run_bulk(run: Run) -> None:
    """Two bulk exports: every variant's levels first (held in memory, small per variant),
    then products with variants, applied in chunks with their levels and a resume point. The
    catalog export cannot nest the levels (Shopify allows two levels of nested connections).
    A resumed job exports the levels again (they are not kept) and skips applied products."""
    levels_op = shopify_catalog.bulk_start(run.client,
                                           query=documents.BULK_VARIANT_LEVELS_QUERY)
    url = _wait(run, levels_op)
    found = [lv for item in graphql.bulk_levels(shopify_catalog.bulk_results(url))
             for lv in item]
    levels = Levels.of(run.sync.shop, found)
    if not run.sync.bulk_operation_id:
        run.save(bulk_operation_id=shopify_catalog.bulk_catalog_start(run.client))
    url = _wait(run, run.sync.bulk_operation_id)
    products = graphql.bulk_products(shopify_catalog.bulk_results(url))
    chunk: list[dict[str, Any]] = []
    for index, product in enumerate(products):
        if index < run.sync.done_products:  # applied by an earlier job; still seen
            run.seen.add(graphql.numeric_id(product, "product.id"))
            continue
        chunk.append(product)
        if len(chunk) >= CHUNK_PRODUCTS:
            _chunk(run, chunk, levels)
            chunk = []
    if chunk:
        _chunk(run, chunk, levels)


def _wait(run: Run, operation_id: str) -> str | None:
    """Wait for a bulk operation's result URL (None: an empty result), heartbeat per poll."""
    status = shopify_catalog.bulk_operation_wait(
        run.client, operation_id=operation_id, interval=BULK_POLL_SECONDS,
        progress=lambda _status: run.save(), timeout=BULK_MAX_WAIT_SECONDS)
    return status.url


def _chunk(run: Run, chunk: list[dict[str, Any]], levels: Levels) -> None:
    done, variants, items = _apply_products(run, chunk, levels)
    run.save(done_products=run.sync.done_products + done,
             done_variants=run.sync.done_variants + variants,
             done_levels=run.sync.done_levels + items)
