"""Orders placed in the stand-in (the control API's `orders` verb): the REST order Shopify
sends with `orders/create` (API 2026-10), for the app's recovered-revenue attribution.

`order_create(world, shop, body)` takes `{"variant": SKU|id|GID, "quantity"?: 1,
"email"?, "phone"?, "customer_id"?, "landing_site"?, "through_alert"?: restock id,
"created_at"?: ISO time, "lines"?: [{"variant", "quantity"}]}` and returns the payload.
`landing_site` is what Shopify records as the visit's first page: a path with its query (a full
URL given here is cut to that). `through_alert=<restock id>` lands on the product page through
the alert's link: the UTM tag notifyme puts on its "Back in Stock" event's `product_url`
(`utm_source=notifyme&utm_medium=back_in_stock&utm_campaign=restock-<id>`; the app's
`notifyme.restocks.links` owns the tag, a test checks the two agree). A customer block is
sent when a customer id or an email is given (guest checkouts have none). Stock is not
changed by an order (use the `stock` verb). `order_cancel` cancels one (`orders/cancelled`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from .rest import rest_time
from .state import ShopState, Variant, World, now
from .web import HttpError

ORDER_BASE = 5_500_000_000_000
LINE_BASE = 14_000_000_000_000
ALERT_UTM = {"utm_source": "notifyme", "utm_medium": "back_in_stock"}


def _bad(field: str, message: str) -> HttpError:
    return HttpError(400, {"error": f"{field}: {message}", "field": field})


def _quantity(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise _bad(field, "a whole number from 1 to 1000")
    return value


def _landing(shop: ShopState, variant: Variant, body: dict[str, Any]) -> str | None:
    alert = body.get("through_alert")
    if alert is not None:
        if isinstance(alert, bool) or not str(alert).isdigit():
            raise _bad("through_alert", "the restock id of the alert")
        product = shop.product(variant.product_id)
        query = urlencode({"variant": variant.id, **ALERT_UTM,
                           "utm_campaign": f"restock-{alert}"})
        return f"/products/{product.handle}?{query}"
    landing = body.get("landing_site")
    if landing is None:
        return None
    if not isinstance(landing, str):
        raise _bad("landing_site", "a path or URL")
    parts = urlsplit(landing)
    return parts.path + (f"?{parts.query}" if parts.query else "") or "/"


def _created(body: dict[str, Any]) -> datetime:
    raw = body.get("created_at")
    if raw is None:
        return now()
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        raise _bad("created_at", "an ISO 8601 time with its offset") from None
    if moment.tzinfo is None:
        raise _bad("created_at", "an ISO 8601 time with its offset")
    return moment


def _line(shop: ShopState, variant: Variant, quantity: int, line_id: int) -> dict[str, Any]:
    product = shop.product(variant.product_id)
    price = f"{variant.price:.2f}"
    money = {"amount": price, "currency_code": shop.currency}
    return {"id": line_id, "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
            "variant_id": variant.id, "product_id": product.id, "title": product.title,
            "variant_title": variant.title, "name": f"{product.title} - {variant.title}",
            "sku": variant.sku, "quantity": quantity, "price": price,
            "price_set": {"shop_money": money, "presentment_money": money},
            "total_discount": "0.00", "requires_shipping": True, "taxable": True,
            "fulfillment_status": None, "vendor": product.vendor}


def _customer(shop: ShopState, body: dict[str, Any]) -> dict[str, Any] | None:
    customer_id, email = body.get("customer_id"), body.get("email")
    if customer_id is None and not email:
        return None
    if customer_id is not None and (isinstance(customer_id, bool)
                                    or not str(customer_id).isdigit()):
        raise _bad("customer_id", "a Shopify customer id")
    return {"id": int(customer_id) if customer_id is not None else None, "email": email,
            "phone": body.get("phone"), "first_name": "Stand-in", "last_name": "Shopper",
            "currency": shop.currency, "verified_email": True,
            "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}"}


def order_create(world: World, shop: ShopState, body: dict[str, Any]) -> dict[str, Any]:
    """A new order of one or more variants; returns the REST order (the webhook body)."""
    specs = body.get("lines")
    if specs is None:
        specs = [{"variant": body.get("variant"), "quantity": body.get("quantity", 1)}]
    if not isinstance(specs, list) or not specs:
        raise _bad("lines", "a non-empty list of {variant, quantity}")
    with world.lock:
        picked = []
        for index, spec in enumerate(specs):
            where = "" if body.get("lines") is None else f"lines[{index}]."
            if not isinstance(spec, dict) or spec.get("variant") in (None, ""):
                raise _bad(f"{where}variant", "required: a SKU, variant id or GID")
            picked.append((shop.find_variant(str(spec["variant"])),
                           _quantity(spec.get("quantity", 1), f"{where}quantity")))
        order_id = ORDER_BASE + world.counters.next("order")
        lines = [_line(shop, variant, quantity, LINE_BASE + order_id % 10**9 * 100 + n)
                 for n, (variant, quantity) in enumerate(picked)]
        landing = _landing(shop, picked[0][0], body)
    created = _created(body)
    total = sum(float(line["price"]) * line["quantity"] for line in lines)
    email = body.get("email")
    number = 1000 + order_id - ORDER_BASE
    order = {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{number}", "order_number": number, "confirmation_number": f"SI{number}",
        "created_at": rest_time(created), "updated_at": rest_time(created),
        "processed_at": rest_time(created), "currency": shop.currency,
        "presentment_currency": shop.currency, "email": email or "", "contact_email": email,
        "phone": body.get("phone"), "customer": _customer(shop, body),
        "landing_site": landing, "referring_site": "", "source_name": "web",
        "financial_status": "paid", "fulfillment_status": None, "test": False,
        "subtotal_price": f"{total:.2f}", "total_price": f"{total:.2f}",
        "total_discounts": "0.00", "total_tax": "0.00", "line_items": lines,
        "shipping_address": None, "billing_address": None, "cancelled_at": None,
        "cancel_reason": None,
    }
    with world.lock:
        shop.orders[order_id] = order
    return order


def order_cancel(world: World, shop: ShopState, order_id: int) -> dict[str, Any]:
    """Cancel an order placed here (the `orders/cancelled` body); 404 for an unknown one,
    409 when it is cancelled already (as the admin refuses)."""
    with world.lock:
        order = shop.orders.get(order_id)
        if order is None:
            raise HttpError(404, {"error": f"order {order_id} not found in {shop.domain}"})
        if order["cancelled_at"] is not None:
            raise HttpError(409, {"error": f"order {order_id} is cancelled already"})
        order.update(cancelled_at=rest_time(now()), cancel_reason="customer",
                     financial_status="refunded", updated_at=rest_time(now()))
        return dict(order)
