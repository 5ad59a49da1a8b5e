"""`StandinAdmin`: the Python client of the stand-in's `/_shopify/` control API.

Tests, benchmarks and the dev tools use it to create shops and catalogs, change stock (which
fires the signed webhooks), flip switches and read what was delivered. Every method is one
HTTP call; a refusal raises `StandinAdminError` with the stand-in's message. No method returns
an access or refresh token; `mint_id_token` returns an App Bridge ID token (a test credential).
"""

from __future__ import annotations

from typing import Any

import requests


class StandinAdminError(RuntimeError):
    """The stand-in refused a control call (status and message)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class StandinAdmin:
    def __init__(self, base_url: str, timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._session.request(method, f"{self.base_url}/_shopify{path}", json=body,
                                         timeout=self.timeout)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise StandinAdminError(f"{method} {path}: {response.status_code} {message}",
                                    response.status_code)
        return response.json() if response.content else None

    # ---- the stand-in itself ------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def reset(self) -> None:
        """Forget every shop, token, bulk operation and webhook; switches off; config back to
        the server's start options."""
        self._call("POST", "/reset")

    def config(self, **changes: Any) -> dict[str, Any]:
        """Read or change settings: access_ttl, refresh_ttl, bucket_max, restore_rate,
        max_query_cost, app_url, api_key, api_secret, scopes, webhook_attempts,
        webhook_retry_delay, webhook_timeout. Returns them (secret masked)."""
        return self._call("POST" if changes else "GET", "/config", changes or None)

    def set_switches(self, *, duplicates: bool | None = None,
                     out_of_order: bool | int | None = None,
                     drop: bool | float | None = None, down: bool | None = None
                     ) -> dict[str, Any]:
        """`out_of_order`: True holds deliveries until switched off / `flush_webhooks`, then
        sends them newest first; n >= 2 does so for every n. `drop`: True or a fraction."""
        body = {"duplicates": duplicates, "out_of_order": out_of_order, "drop": drop,
                "down": down}
        return self._call("POST", "/switches", {k: v for k, v in body.items() if v is not None})

    def seed_demo(self) -> dict[str, Any]:
        """Seed demo-shop.myshopify.com as `--demo` does (nothing if it exists)."""
        return self._call("POST", "/demo")

    def flush_webhooks(self) -> int:
        return int(self._call("POST", "/webhooks/flush")["released"])

    def wait_webhooks(self, timeout: float = 10) -> bool:
        """Block until no delivery is queued or in flight (held ones excepted)."""
        return bool(self._call("POST", "/webhooks/wait", {"timeout": timeout})["idle"])

    # ---- shops and catalog --------------------------------------------------------------
    def create_shop(self, domain: str, *, name: str | None = None, email: str | None = None,
                    currency: str = "USD", country: str = "US",
                    location: str | None = "Main warehouse") -> dict[str, Any]:
        """A shop with one location (unless `location=None`); returns its summary."""
        body: dict[str, Any] = {"domain": domain, "currency": currency, "country": country,
                                "location": location}
        if name:
            body["name"] = name
        if email:
            body["email"] = email
        return self._call("POST", "/shops", body)

    def shops(self) -> list[dict[str, Any]]:
        return self._call("GET", "/shops")

    def shop(self, domain: str) -> dict[str, Any]:
        """Everything: locations, products, variants with inventory item ids and levels."""
        return self._call("GET", f"/shops/{domain}")

    def add_location(self, shop: str, name: str, *, is_active: bool = True,
                     fulfills_online_orders: bool = True) -> dict[str, Any]:
        return self._call("POST", f"/shops/{shop}/locations", {
            "name": name, "is_active": is_active,
            "fulfills_online_orders": fulfills_online_orders})

    def add_product(self, shop: str, title: str, *, variants: list[dict[str, Any]] | None = None,
                    notify: bool = True, **fields: Any) -> dict[str, Any]:
        """Variants: [{"title", "sku", "price", "inventory_policy": DENY|CONTINUE, "tracked",
        "stock": int | {location_id: int}, "id"?}]. Fields: id, handle, status, published,
        image_url, vendor, product_type, description, option_name. Returns {product_id,
        variant_ids, inventory_item_ids, updated_at}; fires products/create unless notify=False.
        """
        body = {"title": title, "variants": variants or [{}], **fields, "notify": notify}
        return self._call("POST", f"/shops/{shop}/products", body)

    def update_product(self, shop: str, product_id: int, *, notify: bool = True,
                       **changes: Any) -> dict[str, Any]:
        """Changes: title, handle, status, published, image_url, vendor, product_type,
        description, variants=[{"id", "title"|"sku"|"price"|"inventory_policy"|"tracked"}],
        add_variants=[...]. Fires products/update unless notify=False."""
        return self._call("POST", f"/shops/{shop}/products/{product_id}",
                          {**changes, "notify": notify})

    def delete_product(self, shop: str, product_id: int, *, notify: bool = True) -> None:
        self._call("DELETE", f"/shops/{shop}/products/{product_id}", {"notify": notify})

    def set_stock(self, shop: str, inventory_item_id: int, location_id: int | None,
                  available: int, *, notify: bool = True) -> dict[str, Any]:
        """Set one level; fires inventory_levels/update. Returns the webhook payload."""
        return self._call("POST", f"/shops/{shop}/stock", {
            "inventory_item_id": inventory_item_id, "location_id": location_id,
            "available": available, "notify": notify})

    def set_variant_stock(self, shop: str, variant: str | int, available: int, *,
                          location_id: int | None = None, notify: bool = True
                          ) -> dict[str, Any]:
        """Like set_stock, the variant given by SKU, variant id or inventory item id."""
        return self._call("POST", f"/shops/{shop}/stock", {
            "variant": str(variant), "location_id": location_id, "available": available,
            "notify": notify})

    def bulk_generate(self, shop: str, *, products: int, variants_per: int = 1,
                      stock: int = 0, published: bool = True) -> dict[str, int]:
        """products x variants_per variants at once (no webhooks); stock at the first
        location. 50,000 variants take about a second."""
        return self._call("POST", f"/shops/{shop}/generate", {
            "products": products, "variants_per": variants_per, "stock": stock,
            "published": published})

    def create_order(self, shop: str, variant: str | int | None = None, *, quantity: int = 1,
                     email: str | None = None, phone: str | None = None,
                     customer_id: int | None = None, landing_site: str | None = None,
                     through_alert: int | None = None, created_at: str | None = None,
                     lines: list[dict[str, Any]] | None = None, notify: bool = True
                     ) -> dict[str, Any]:
        """Place an order (fires orders/create); returns the REST order. `through_alert` =
        a restock id: the visit landed through that alert's link (its UTM tag)."""
        body: dict[str, Any] = {"quantity": quantity, "notify": notify}
        optional = {"variant": None if variant is None else str(variant), "email": email,
                    "phone": phone, "customer_id": customer_id, "landing_site": landing_site,
                    "through_alert": through_alert, "created_at": created_at, "lines": lines}
        body.update({k: v for k, v in optional.items() if v is not None})
        return self._call("POST", f"/shops/{shop}/orders", body)

    def cancel_order(self, shop: str, order_id: int, *, notify: bool = True) -> dict[str, Any]:
        """Cancel an order placed with `create_order` (fires orders/cancelled)."""
        return self._call("POST", f"/shops/{shop}/orders/{order_id}/cancel", {"notify": notify})

    # ---- app lifecycle and webhooks -----------------------------------------------------
    def uninstall(self, shop: str, *, notify: bool = True) -> None:
        """Revoke the app's tokens for the shop; fires app/uninstalled."""
        self._call("POST", f"/shops/{shop}/uninstall", {"notify": notify})

    def send_webhook(self, shop: str, topic: str, payload: dict[str, Any] | None = None,
                     *, event_id: str | None = None) -> str:
        """Any topic, signed like the rest; compliance topics get their documented body
        (`payload` keys override it). Returns the X-Shopify-Webhook-Id."""
        return self._call("POST", f"/shops/{shop}/webhooks", {
            "topic": topic, "payload": payload, "event_id": event_id})["webhook_id"]

    def webhook_log(self, shop: str) -> list[dict[str, Any]]:
        """[{topic, webhook_id, event_id, triggered_at, state, status, attempts, duplicate,
        error}] oldest first; state: pending|held|delivered|failed|dropped."""
        return self._call("GET", f"/shops/{shop}/webhooks")

    # ---- auth -----------------------------------------------------------------------------
    def mint_id_token(self, shop: str, **options: Any) -> str:
        """An App Bridge ID token for `shop`, signed with the app secret. Options for
        negative tests: exp_in, nbf_in (seconds from now), aud, secret, dest, iss, sub."""
        return self._call("POST", f"/shops/{shop}/id-token", options)["id_token"]

    def tokens(self, shop: str) -> dict[str, Any]:
        """Counts only: issued, token_exchanges, code_grants, refreshes, refresh_failures,
        api_rejections, active_access_tokens, active_refresh_tokens, access_expires_in,
        scopes, installed."""
        return self._call("GET", f"/shops/{shop}/tokens")

    def expire_tokens(self, shop: str, *, access: bool = True, refresh: bool = False) -> int:
        """Make the shop's live tokens expired now; returns how many."""
        return int(self._call("POST", f"/shops/{shop}/tokens/expire",
                              {"access": access, "refresh": refresh})["expired"])

    def stats(self, shop: str) -> dict[str, Any]:
        """GraphQL counters (requests, throttled, max_cost_exceeded, cost_requested,
        cost_actual) and the bucket's throttleStatus."""
        return self._call("GET", f"/shops/{shop}/stats")
