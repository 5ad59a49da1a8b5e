"""The HTML page `/_shopify/` (a newcomer's restock button) and the JSON dumps of a shop.

Every value is escaped (`html.escape`); the page lists at most PAGE_PRODUCTS products per shop
(`?shop=<domain>&page=N` pages through a big catalog). The stock form posts to
`/_shopify/page/stock` and comes back here (303), firing `inventory_levels/update` like the
control API.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from .state import Product, ShopState
from .web import HTML, HttpError, Request, Response, redirect

if TYPE_CHECKING:
    from .app import StandinApp
    from .control import Control

PAGE_PRODUCTS = 50
STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;
margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}input[type=number]{width:5em}.muted{color:#888}"""


def shop_summary(shop: ShopState) -> dict[str, Any]:
    return {"id": shop.id, "domain": shop.domain, "name": shop.name, "email": shop.email,
            "currency": shop.currency, "country": shop.country, "installed": shop.installed,
            "locations": [{"id": loc.id, "name": loc.name, "is_active": loc.is_active,
                           "fulfills_online_orders": loc.fulfills_online_orders}
                          for loc in shop.locations.values()],
            "products": len(shop.products), "variants": len(shop.variants)}


def product_ids(shop: ShopState, product: Product) -> dict[str, Any]:
    variants = [shop.variants[v] for v in product.variant_ids if v in shop.variants]
    return {"product_id": product.id, "variant_ids": [v.id for v in variants],
            "inventory_item_ids": [v.inventory_item_id for v in variants],
            "updated_at": product.updated_at.isoformat()}


def shop_dump(shop: ShopState) -> dict[str, Any]:
    products = []
    for product in shop.products.values():
        variants = [shop.variants[v] for v in product.variant_ids if v in shop.variants]
        products.append({
            "id": product.id, "title": product.title, "handle": product.handle,
            "status": product.status, "published": product.published_at is not None,
            "image_url": product.image_url, "updated_at": product.updated_at.isoformat(),
            "variants": [{"id": v.id, "title": v.title, "sku": v.sku, "price": str(v.price),
                          "inventory_policy": v.inventory_policy, "tracked": v.tracked,
                          "inventory_item_id": v.inventory_item_id,
                          "levels": {str(loc): lvl.available for loc, lvl in v.levels.items()}}
                         for v in variants]})
    return {**shop_summary(shop), "products": products}


def _shop_html(shop: ShopState, page_number: int) -> str:
    rows = []
    locations = list(shop.locations.values())
    head = "".join(f"<th>{escape(loc.name)}{'' if loc.fulfills_online_orders else ' *'}</th>"
                   for loc in locations)
    products = list(shop.products.values())
    start = page_number * PAGE_PRODUCTS
    for product in products[start:start + PAGE_PRODUCTS]:
        state = escape(product.status) + ("" if product.published_at else ", unpublished")
        rows.append(f"<tr><th colspan='{3 + len(locations)}'>{escape(product.title)} "
                    f"<span class='muted'>{product.id} · {state}</span></th></tr>")
        for variant_id in product.variant_ids:
            variant = shop.variants.get(variant_id)
            if variant is None:
                continue
            cells = "".join(_stock_cell(shop, variant.inventory_item_id, loc.id,
                                        variant.levels[loc.id].available
                                        if loc.id in variant.levels else 0)
                            for loc in locations)
            tracked = "" if variant.tracked else " (not tracked)"
            rows.append(f"<tr><td>{escape(variant.title)}{tracked}</td>"
                        f"<td>{escape(variant.sku)}</td>"
                        f"<td>{escape(variant.inventory_policy)}</td>{cells}</tr>")
    more = ""
    if start + PAGE_PRODUCTS < len(products):
        link = "?" + urlencode({"shop": shop.domain, "page": page_number + 1})
        more = f"<p><a href='{escape(link)}'>next {PAGE_PRODUCTS} products</a></p>"
    installed = "installed" if shop.installed else "app not installed"
    return (f"<h2>{escape(shop.name)} <span class='muted'>{escape(shop.domain)} · "
            f"{installed}</span></h2><table><tr><th>Variant</th><th>SKU</th><th>Policy</th>"
            f"{head}</tr>{''.join(rows)}</table>{more}")


def _stock_cell(shop: ShopState, item_id: int, location_id: int, available: int) -> str:
    return ("<td><form method='post' action='/_shopify/page/stock'>"
            f"<input type='hidden' name='shop' value='{escape(shop.domain)}'>"
            f"<input type='hidden' name='inventory_item_id' value='{item_id}'>"
            f"<input type='hidden' name='location_id' value='{location_id}'>"
            f"<input type='number' name='available' value='{available}'>"
            "<button>Set</button></form></td>")


def render(app: StandinApp, req: Request) -> Response:
    wanted = req.arg("shop")
    try:
        page_number = max(0, int(req.arg("page") or 0))
    except ValueError:
        page_number = 0
    with app.world.lock:
        shops = [s for s in app.world.shops.values() if wanted in (None, s.domain)]
        body = "".join(_shop_html(shop, page_number) for shop in shops) or \
            "<p>No shops yet (POST /_shopify/shops, or start with --demo).</p>"
    notice = escape(req.arg("notice") or "")
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>Shopify stand-in</title>"
            f"<style>{STYLE}</style></head><body><h1>Shopify stand-in</h1>"
            f"<p class='muted'>Webhooks go to {escape(app.config.app_url)}/webhooks/shopify. "
            f"* = location that does not fulfil online orders.</p>"
            f"{f'<p><b>{notice}</b></p>' if notice else ''}{body}</body></html>")
    return Response(200, html, content_type=HTML)


def stock_form(control: Control, req: Request) -> Response:
    form = {k: v[-1] for k, v in parse_qs(req.raw_body.decode("utf-8", "replace")).items()}
    shop = control.app.world.shop(form.get("shop", ""))
    try:
        body = {"inventory_item_id": int(form["inventory_item_id"]),
                "location_id": int(form["location_id"]), "available": int(form["available"])}
    except (KeyError, ValueError):
        raise HttpError(400, {"error": "inventory_item_id, location_id and available must be "
                                       "integers"}) from None
    control.stock(shop, body)
    notice = f"Stock set to {body['available']}: inventory_levels/update sent."
    return redirect("/_shopify/?" + urlencode({"shop": shop.domain, "notice": notice}), 303)
