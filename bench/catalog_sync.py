"""The initial catalog sync of a 50,000-variant shop through the Shopify stand-in.

    .venv/bin/python bench/catalog_sync.py [--products 10000] [--variants-per 5] [--mode auto]
        [--resync] [--changed 100] [--database notifyme_bench_catalog_sync] [--redis-db 6]

Starts the stand-in (`python -m sandboxes.shopify`, its own process), generates the catalog
there (`bulk_generate`: stock 3 at the first location), installs the app by token exchange
(`shop_install_from_id_token`, as the first embedded load does), then runs the sync in this
process exactly as the worker job does (`catalog_sync_run`), printing progress every 10 % and
at the end the wall time, the mode, the Admin API cost points used (Shopify's actual query
cost) and what landed in the mirror. PASS: the sync succeeded and every product, variant and
level is mirrored once. `--resync`: then a second full sync of the same catalog, after
`--changed` products got a new title in the stand-in (no webhook) and one was deleted there,
timed the same way (PASS also needs the changed titles mirrored and the deleted product marked
removed). Database notifyme_bench_catalog_sync, Redis db 6 (or --database,
--redis-db); loopback only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as c

SHOP = "bench-catalog.myshopify.com"


def _standin() -> tuple[subprocess.Popen[bytes], str]:
    port = c.free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [c.PY, "-m", "sandboxes.shopify", "--host", "127.0.0.1", "--port", str(port),
         "--threads", "8", "--app-url", "http://127.0.0.1:9"],
        cwd=c.ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL,
        stderr=tempfile.TemporaryFile())
    return proc, url


def run(args: argparse.Namespace) -> bool:
    c.setup_env(args.database, args.redis_db)
    from django.conf import settings

    from notifyme.catalog.models import InventoryLevel, Product, Variant
    from notifyme.catalog.sync import catalog_sync_start
    from notifyme.catalog.sync_models import CatalogSync
    from notifyme.catalog.sync_run import catalog_sync_run
    from notifyme.shops.install import shop_install_from_id_token
    from sandboxes.shopify.admin import StandinAdmin

    proc, url = _standin()
    try:
        admin = StandinAdmin(url, timeout=600)
        if not c.wait_until(lambda: _healthy(admin), timeout=60, interval=0.2):
            raise RuntimeError("the Shopify stand-in did not start")
        settings.SHOPIFY_ADMIN_URL = f"{url}/{{shop}}"
        admin.create_shop(SHOP)
        admin.bulk_generate(SHOP, products=args.products, variants_per=args.variants_per,
                            stock=3)
        shop = shop_install_from_id_token(id_token=admin.mint_id_token(SHOP), shop_domain=SHOP)
        CatalogSync.objects.filter(shop=shop).delete()  # the queued initial sync: run it here
        sync = catalog_sync_start(shop=shop, mode=args.mode, enqueue=False)
        last: dict[str, Any] = {"step": -1, "t0": 0.0}

        def progress(row: CatalogSync) -> None:
            if row.percent // 10 > last["step"]:
                last["step"] = row.percent // 10
                print(f"  {row.percent:3d}%  {row.done_variants:,} variants, "
                      f"{row.done_levels:,} levels, {time.monotonic() - last['t0']:.1f} s",
                      flush=True)

        started = last["t0"] = time.monotonic()
        done = catalog_sync_run(sync_id=sync.pk, on_progress=progress)
        took = time.monotonic() - started
        assert done is not None
        total = args.products * args.variants_per
        mirrored = (Product.objects.filter(shop=shop).count(),
                    Variant.objects.filter(shop=shop).count(),
                    InventoryLevel.objects.filter(shop=shop).count())
        print(f"catalog sync of {total:,} variants ({args.products:,} products): {done.state} "
              f"in {took:.1f} s, mode {done.mode}, {done.cost_points:,} cost points; "
              f"mirror {mirrored[0]:,} products, {mirrored[1]:,} variants, "
              f"{mirrored[2]:,} levels {done.error}")
        ok = done.state == CatalogSync.State.SUCCEEDED and mirrored == (
            args.products, total, total)
        if ok and args.resync:
            ok = _resync(args, admin, shop, progress, last)
        print(c.verdict(ok))
        return ok
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _resync(args: argparse.Namespace, admin: Any, shop: Any,
            progress: Callable[[Any], None], last: dict[str, Any]) -> bool:
    """A second full sync after `--changed` title edits and one deletion in the stand-in."""
    from notifyme.catalog.models import Product
    from notifyme.catalog.sync import catalog_sync_start
    from notifyme.catalog.sync_models import CatalogSync
    from notifyme.catalog.sync_run import catalog_sync_run

    ids = list(Product.objects.filter(shop=shop).order_by("shopify_id")
               .values_list("shopify_id", flat=True))
    changed = ids[1:1 + args.changed]
    for pid in changed:
        admin.update_product(SHOP, pid, title=f"Renamed {pid}", notify=False)
    admin.delete_product(SHOP, ids[0], notify=False)
    sync = catalog_sync_start(shop=shop, mode=args.mode, enqueue=False)
    last["step"] = -1
    started = last["t0"] = time.monotonic()
    done = catalog_sync_run(sync_id=sync.pk, on_progress=progress)
    took = time.monotonic() - started
    assert done is not None
    renamed = Product.objects.filter(shop=shop, shopify_id__in=changed,
                                     title__startswith="Renamed ").count()
    removed = Product.objects.filter(shop=shop, removed_at__isnull=False).count()
    print(f"re-sync ({len(changed)} products changed, 1 deleted): {done.state} in {took:.1f} s, "
          f"mode {done.mode}, {done.cost_points:,} cost points; {renamed} renamed, "
          f"{removed} removed {done.error}")
    return (done.state == CatalogSync.State.SUCCEEDED and renamed == len(changed)
            and removed == 1)


def _healthy(admin: object) -> bool:
    try:
        admin.health()  # type: ignore[attr-defined]
    except Exception:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--variants-per", type=int, default=5)
    parser.add_argument("--mode", default="auto", choices=["auto", "paging", "bulk"])
    parser.add_argument("--resync", action="store_true",
                        help="then time a second full sync of the same catalog")
    parser.add_argument("--changed", type=int, default=100,
                        help="products renamed in the stand-in before the re-sync")
    parser.add_argument("--database", default="notifyme_bench_catalog_sync",
                        help="the bench's own database (dropped and created)")
    parser.add_argument("--redis-db", type=int, default=6)
    sys.exit(0 if run(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
