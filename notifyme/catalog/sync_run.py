"""Running one catalog sync: Admin GraphQL → snapshots → the catalog services, resumably.

Order: count the catalog (`CatalogCounts`: the progress bar's total, and `auto` picks paging
up to `BULK_THRESHOLD_VARIANTS` variants, a bulk operation above), apply the locations, then
the products, then their per-location levels (a level needs its variant). Paging: each page of
products (`products_page`, every variant included) is followed by its variants' levels
(`variants_inventory`). Bulk: two exports, the catalog (products + variants) and then every
variant's levels (`BULK_VARIANT_LEVELS_QUERY`), because a bulk query nests at most two levels
of connections. Both paths convert through `notifyme.catalog.graphql`, so paging and
bulk write the same mirror. Everything applied is newer-only (`product_apply`,
`inventory_levels_apply`), so a page or a chunk applied twice — after a crash, or by a resumed
job — changes nothing.

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

import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.shopify import catalog as shopify_catalog
from integrations.shopify import documents
from integrations.shopify.client import AdminClient
from integrations.shopify.errors import ReauthRequired, ShopifyError, ShopifyUnavailable
from notifyme.catalog import graphql
from notifyme.catalog.services import inventory_levels_apply, locations_apply, product_apply
from notifyme.catalog.snapshots import LevelSnapshot
from notifyme.catalog.sync_models import CatalogSync
from notifyme.delivery.leasing import new_token
from notifyme.shops.models import Shop

logger = logging.getLogger(__name__)

BULK_THRESHOLD_VARIANTS = 2000
CHUNK_PRODUCTS = 250
CHUNK_ITEMS = 500
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
        pass


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
    else:
        _run_paging(run)
    _finish(run, State.SUCCEEDED)


def _apply_products(run: Run, products: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Apply product nodes (page shape); returns (products, variants) applied."""
    count = variants = 0
    for node in products:
        snapshot = graphql.product_snapshot(node)
        product_apply(shop=run.sync.shop, snapshot=snapshot)
        count, variants = count + 1, variants + len(snapshot.variants)
    return count, variants


def _run_paging(run: Run) -> None:
    """Pages of products (each with all its variants), then the page's per-location levels
    (`variants_inventory`), then the resume point."""
    cursor = run.sync.cursor or None
    while True:
        page = shopify_catalog.products_page(run.client, after=cursor, first=PAGE_PRODUCTS)
        done, variants = _apply_products(run, page.products)
        ids = [graphql.numeric_id(v, "variant.id") for p in page.products
               for v in graphql.connection_nodes(p.get("variants"))]
        nodes = shopify_catalog.variants_inventory(run.client, variant_ids=ids) if ids else []
        levels = graphql.level_snapshots({"variants": {"nodes": nodes}})
        if levels:
            inventory_levels_apply(shop=run.sync.shop, levels=levels)
        cursor = page.end_cursor or cursor
        run.save(cursor=cursor or "", done_products=run.sync.done_products + done,
                 done_variants=run.sync.done_variants + variants,
                 done_levels=run.sync.done_levels + len(nodes))
        if not page.has_next or not page.products:
            return


def _bulk_url(run: Run, start: Callable[[AdminClient], str]) -> str | None:
    """Start this stage's bulk operation (once: its id is saved) and wait for its result URL
    (None for an empty result), with a heartbeat on every poll."""
    if not run.sync.bulk_operation_id:
        run.save(bulk_operation_id=start(run.client))
    status = shopify_catalog.bulk_operation_wait(
        run.client, operation_id=run.sync.bulk_operation_id, interval=BULK_POLL_SECONDS,
        progress=lambda _status: run.save(), timeout=BULK_MAX_WAIT_SECONDS)
    return status.url


def _bulk_levels_start(client: AdminClient) -> str:
    return shopify_catalog.bulk_start(client, query=documents.BULK_VARIANT_LEVELS_QUERY)


def _run_bulk(run: Run) -> None:
    """Two bulk exports: products with variants, then every variant's levels (the catalog
    export cannot nest them: Shopify allows two levels of nested connections), each applied in
    chunks with its resume point."""
    if run.sync.cursor != CatalogSync.BULK_LEVELS:
        url = _bulk_url(run, shopify_catalog.bulk_catalog_start)
        skip = run.sync.done_products  # a resumed job: these were applied before
        chunk: list[dict[str, Any]] = []
        products = graphql.bulk_products(shopify_catalog.bulk_results(url))
        for product in itertools.islice(products, skip, None):
            chunk.append(product)
            if len(chunk) >= CHUNK_PRODUCTS:
                _products_chunk(run, chunk)
                chunk = []
        if chunk:
            _products_chunk(run, chunk)
        run.save(cursor=CatalogSync.BULK_LEVELS, bulk_operation_id="")
    url = _bulk_url(run, _bulk_levels_start)
    items = graphql.bulk_levels(shopify_catalog.bulk_results(url))
    batch: list[list[LevelSnapshot]] = []
    for levels in itertools.islice(items, run.sync.done_levels, None):
        batch.append(levels)
        if len(batch) >= CHUNK_ITEMS:
            _levels_chunk(run, batch)
            batch = []
    if batch:
        _levels_chunk(run, batch)


def _products_chunk(run: Run, chunk: list[dict[str, Any]]) -> None:
    done, variants = _apply_products(run, chunk)
    run.save(done_products=run.sync.done_products + done,
             done_variants=run.sync.done_variants + variants)


def _levels_chunk(run: Run, batch: list[list[LevelSnapshot]]) -> None:
    levels = [level for item in batch for level in item]
    if levels:
        inventory_levels_apply(shop=run.sync.shop, levels=levels)
    run.save(done_levels=run.sync.done_levels + len(batch))
