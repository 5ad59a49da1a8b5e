"""The control API under `/_shopify/` (JSON in, JSON out; `StandinAdmin` in admin.py is the client).

  GET  /_shopify/                         HTML page (page.py); POST /_shopify/page/stock (form)
  GET  /_shopify/health                   {"ok": true, "shops": n}
  POST /_shopify/reset                    forget everything; config back to the start values
  POST /_shopify/demo                     seed demo-shop.myshopify.com (idempotent)
  GET|POST /_shopify/config               settings (config.py); the secret is never returned
  GET|POST /_shopify/switches             duplicates, out_of_order, drop, down
  POST /_shopify/webhooks/flush           release held (out-of-order) deliveries
  POST /_shopify/webhooks/wait            {"timeout"} → {"idle": bool}
  GET  /_shopify/bulk/<id>.jsonl          a bulk operation's result file
  GET|POST /_shopify/shops                list / create {"domain", "name"?, "email"?, ...}
  GET  /_shopify/shops/<shop>             the shop with locations, products, variants, levels
  POST /_shopify/shops/<shop>/locations   {"name", "is_active"?, "fulfills_online_orders"?}
  POST /_shopify/shops/<shop>/products    product spec (catalog.py) → ids; products/create
  POST /_shopify/shops/<shop>/products/<id>   changes → products/update
  DELETE /_shopify/shops/<shop>/products/<id> → products/delete
  POST /_shopify/shops/<shop>/stock       {"inventory_item_id"|"variant", "location_id"?,
                                          "available"} → inventory_levels/update
  POST /_shopify/shops/<shop>/orders      {"variant", "quantity"?, "email"?, "phone"?,
                                          "customer_id"?, "landing_site"?, "through_alert"?,
                                          "created_at"?, "lines"?} → orders/create (orders.py)
  POST /_shopify/shops/<shop>/orders/<id>/cancel  → orders/cancelled
  POST /_shopify/shops/<shop>/uninstall   tokens revoked → app/uninstalled
  POST /_shopify/shops/<shop>/webhooks    {"topic", "payload"?} (compliance bodies by default)
  GET  /_shopify/shops/<shop>/webhooks    the delivery log
  POST /_shopify/shops/<shop>/id-token    {options} → {"id_token"}
  POST /_shopify/shops/<shop>/generate    {"products", "variants_per", "stock"?}
  GET  /_shopify/shops/<shop>/tokens      counts (never a token); POST .../tokens/expire
  GET  /_shopify/shops/<shop>/stats       GraphQL requests, throttled, cost points
Every `notify` flag (default true) can be turned off to change state without a webhook.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from . import catalog, page
from .config import Config
from .demo import DEMO_SHOP_DOMAIN, demo_seed
from .oauth import id_token_mint
from .orders import order_cancel, order_create
from .rest import compliance_payload, level_rest, product_rest, shop_rest
from .state import ShopState
from .web import HttpError, Request, Response

if TYPE_CHECKING:
    from .app import StandinApp

_SHOP = re.compile(r"^/_shopify/shops/(?P<shop>[^/]+)(?:/(?P<rest>.*))?$")
_PRODUCT = re.compile(r"^products/(?P<id>\d+)$")
_CANCEL = re.compile(r"^orders/(?P<id>\d+)/cancel$")
_BULK = re.compile(r"^/_shopify/bulk/(?P<id>\d+)\.jsonl$")
Route = Callable[["Control", Request, dict[str, Any]], Response]


def ok(body: Any = None, status: int = 200) -> Response:
    return Response(status, {"ok": True} if body is None else body)


def _int(body: dict[str, Any], name: str) -> int:
    try:
        return int(body[name])
    except KeyError:
        raise HttpError(400, {"error": f"{name}: required", "field": name}) from None
    except (TypeError, ValueError):
        raise HttpError(400, {"error": f"{name}: must be an integer", "field": name}) from None


class Control:
    def __init__(self, app: StandinApp) -> None:
        self.app = app
        self.initial = Config(**asdict(app.config))

    def remember_initial(self) -> None:
        """The config `reset` goes back to (the server's start options)."""
        self.initial = Config(**asdict(self.app.config))

    def handle(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        if path == "/_shopify" and req.method == "GET":
            return page.render(self.app, req)
        if path == "/_shopify/page/stock" and req.method == "POST":
            return page.stock_form(self, req)
        bulk = _BULK.match(path)
        if bulk and req.method == "GET":
            return self._bulk_file(int(bulk["id"]))
        try:
            body = req.json() if req.raw_body else {}
        except ValueError:
            raise HttpError(400, {"error": "body must be JSON"}) from None
        if not isinstance(body, dict):
            raise HttpError(400, {"error": "body must be a JSON object"})
        route = ROUTES.get((req.method, path))
        if route is not None:
            return route(self, req, body)
        match = _SHOP.match(path)
        if match and match["rest"] == "id-token" and req.method == "POST":
            # a test credential: also for a shop the stand-in does not know
            return ok({"id_token": id_token_mint(self.app, match["shop"], body)})
        if match:
            shop = self.app.world.shop(match["shop"])
            return self._shop_route(req, body, shop, match["rest"] or "")
        raise HttpError(404, {"error": f"no control route {req.method} {path}"})

    def _shop_route(self, req: Request, body: dict[str, Any], shop: ShopState,
                    rest: str) -> Response:
        cancel = _CANCEL.match(rest)
        if cancel and req.method == "POST":
            payload = order_cancel(self.app.world, shop, int(cancel["id"]))
            if body.get("notify", True):
                self.app.webhooks.send(shop.domain, "orders/cancelled", payload)
            return ok(payload)
        product = _PRODUCT.match(rest)
        if product:
            product_id = int(product["id"])
            if req.method == "POST":
                return self.product_update(shop, product_id, body)
            if req.method == "DELETE":
                return self.product_delete(shop, product_id, body)
        route = SHOP_ROUTES.get((req.method, rest))
        if route is None:
            raise HttpError(404, {"error": f"no control route {req.method} {req.path}"})
        return route(self, shop, body)

    # ---- global -------------------------------------------------------------------------
    def health(self, req: Request, body: dict[str, Any]) -> Response:
        return ok({"ok": True, "shops": len(self.app.world.shops)})

    def reset(self, req: Request, body: dict[str, Any]) -> Response:
        self.app.reset()
        self.app.config.update(asdict(self.initial))
        return ok()

    def config(self, req: Request, body: dict[str, Any]) -> Response:
        if req.method == "POST":
            self.app.config.update(body)
        return ok(self.app.config.public())

    def switches(self, req: Request, body: dict[str, Any]) -> Response:
        if req.method == "POST":
            was_holding = self.app.switches.out_of_order
            self.app.switches.update(body)
            if was_holding and not self.app.switches.out_of_order:
                self.app.webhooks.flush()
        return ok(asdict(self.app.switches))

    def demo(self, req: Request, body: dict[str, Any]) -> Response:
        demo_seed(self.app.world)
        return ok(page.shop_summary(self.app.world.shop(DEMO_SHOP_DOMAIN)), 201)

    def flush(self, req: Request, body: dict[str, Any]) -> Response:
        return ok({"released": self.app.webhooks.flush()})

    def wait(self, req: Request, body: dict[str, Any]) -> Response:
        return ok({"idle": self.app.webhooks.idle(float(body.get("timeout", 10)))})

    def shops(self, req: Request, body: dict[str, Any]) -> Response:
        world = self.app.world
        if req.method == "GET":
            return ok([page.shop_summary(shop) for shop in world.snapshot(world.shops.values())])
        domain = str(body.get("domain") or "")
        extra = {k: body[k] for k in ("name", "email", "currency", "country", "location")
                 if k in body}
        shop = world.create_shop(domain, **extra)
        return ok(page.shop_summary(shop), 201)

    def _bulk_file(self, operation_id: int) -> Response:
        path = self.app.bulk.path(operation_id)
        if not path.exists():
            raise HttpError(404, {"error": "no such bulk result"})
        return Response(200, path.read_bytes(), content_type="application/jsonl")

    # ---- one shop -----------------------------------------------------------------------
    def shop_dump(self, shop: ShopState, body: dict[str, Any]) -> Response:
        with self.app.world.lock:
            return ok(page.shop_dump(shop))

    def location_add(self, shop: ShopState, body: dict[str, Any]) -> Response:
        location = self.app.world.add_location(
            shop, name=str(body.get("name") or "Location"),
            is_active=bool(body.get("is_active", True)),
            fulfills_online_orders=bool(body.get("fulfills_online_orders", True)))
        return ok(asdict(location), 201)

    def product_add(self, shop: ShopState, body: dict[str, Any]) -> Response:
        product = catalog.product_add(self.app.world, shop, body.get("product") or body)
        with self.app.world.lock:
            payload = product_rest(shop, product)
        if body.get("notify", True):
            self.app.webhooks.send(shop.domain, "products/create", payload)
        return ok(page.product_ids(shop, product), 201)

    def product_update(self, shop: ShopState, product_id: int, body: dict[str, Any]
                       ) -> Response:
        changes = {k: v for k, v in body.items() if k != "notify"}
        product = catalog.product_update(self.app.world, shop, product_id, changes)
        with self.app.world.lock:
            payload = product_rest(shop, product)
        if body.get("notify", True):
            self.app.webhooks.send(shop.domain, "products/update", payload)
        return ok(page.product_ids(shop, product))

    def product_delete(self, shop: ShopState, product_id: int, body: dict[str, Any]
                       ) -> Response:
        catalog.product_delete(self.app.world, shop, product_id)
        if body.get("notify", True):
            self.app.webhooks.send(shop.domain, "products/delete", {"id": product_id})
        return ok()

    def stock(self, shop: ShopState, body: dict[str, Any]) -> Response:
        if "inventory_item_id" in body:
            item_id = _int(body, "inventory_item_id")
        elif "variant" in body:
            item_id = shop.find_variant(str(body["variant"])).inventory_item_id
        else:
            raise HttpError(400, {"error": "inventory_item_id: required (or variant)",
                                  "field": "inventory_item_id"})
        location_id = _int(body, "location_id") if body.get("location_id") is not None \
            else shop.default_location().id
        variant, level = catalog.stock_set(self.app.world, shop, inventory_item_id=item_id,
                                           location_id=location_id,
                                           available=_int(body, "available"))
        payload = level_rest(variant, level)
        if body.get("notify", True):
            self.app.webhooks.send(shop.domain, "inventory_levels/update", payload)
        return ok(payload)

    def order(self, shop: ShopState, body: dict[str, Any]) -> Response:
        payload = order_create(self.app.world, shop, body)
        if body.get("notify", True):
            self.app.webhooks.send(shop.domain, "orders/create", payload)
        return ok(payload, 201)

    def uninstall(self, shop: ShopState, body: dict[str, Any]) -> Response:
        self.app.tokens.revoke_shop(shop.domain)
        shop.installed = False
        if body.get("notify", True):
            self.app.webhooks.send(shop.domain, "app/uninstalled", shop_rest(shop))
        return ok()

    def webhook_send(self, shop: ShopState, body: dict[str, Any]) -> Response:
        topic = str(body.get("topic") or "")
        if not re.fullmatch(r"[a-z_]+/[a-z_]+", topic):
            raise HttpError(400, {"error": "topic: like products/update", "field": "topic"})
        payload = body.get("payload")
        if topic in ("customers/data_request", "customers/redact", "shop/redact"):
            payload = compliance_payload(shop, topic, payload)
        elif payload is None:
            raise HttpError(400, {"error": "payload: required for this topic",
                                  "field": "payload"})
        webhook_id = self.app.webhooks.send(shop.domain, topic, payload,
                                            event_id=body.get("event_id"))
        return ok({"webhook_id": webhook_id})

    def webhook_log(self, shop: ShopState, body: dict[str, Any]) -> Response:
        return ok(self.app.webhooks.log(shop.domain))

    def generate(self, shop: ShopState, body: dict[str, Any]) -> Response:
        return ok(catalog.bulk_generate(
            self.app.world, shop, products=_int(body, "products"),
            variants_per=int(body.get("variants_per", 1)), stock=int(body.get("stock", 0)),
            published=bool(body.get("published", True))), 201)

    def tokens(self, shop: ShopState, body: dict[str, Any]) -> Response:
        return ok({**self.app.tokens.stats(shop.domain), "installed": shop.installed})

    def tokens_expire(self, shop: ShopState, body: dict[str, Any]) -> Response:
        touched = self.app.tokens.expire(shop.domain, access=bool(body.get("access", True)),
                                         refresh=bool(body.get("refresh", False)))
        return ok({"expired": touched})

    def stats(self, shop: ShopState, body: dict[str, Any]) -> Response:
        return ok({**self.app.stats_for(shop.domain),
                   "bucket": self.app.bucket(shop.domain).status()})


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/_shopify/health"): Control.health,
    ("POST", "/_shopify/reset"): Control.reset,
    ("GET", "/_shopify/config"): Control.config,
    ("POST", "/_shopify/config"): Control.config,
    ("GET", "/_shopify/switches"): Control.switches,
    ("POST", "/_shopify/switches"): Control.switches,
    ("POST", "/_shopify/demo"): Control.demo,
    ("POST", "/_shopify/webhooks/flush"): Control.flush,
    ("POST", "/_shopify/webhooks/wait"): Control.wait,
    ("GET", "/_shopify/shops"): Control.shops,
    ("POST", "/_shopify/shops"): Control.shops,
}
ShopRoute = Callable[[Control, ShopState, dict[str, Any]], Response]
SHOP_ROUTES: dict[tuple[str, str], ShopRoute] = {
    ("GET", ""): Control.shop_dump,
    ("POST", "locations"): Control.location_add,
    ("POST", "products"): Control.product_add,
    ("POST", "stock"): Control.stock,
    ("POST", "orders"): Control.order,
    ("POST", "uninstall"): Control.uninstall,
    ("POST", "webhooks"): Control.webhook_send,
    ("GET", "webhooks"): Control.webhook_log,
    ("POST", "generate"): Control.generate,
    ("GET", "tokens"): Control.tokens,
    ("POST", "tokens/expire"): Control.tokens_expire,
    ("GET", "stats"): Control.stats,
}
