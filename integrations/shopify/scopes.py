"""The Admin API access scopes the app needs, each with the reason (one place).

`shopify.app.toml` declares exactly these (a test parses the TOML and compares); every token
grant is checked against them (`missing_scopes`), so a merchant who edited the install URL, or a
TOML that lost a scope, shows up as `MissingScopes` instead of failing later queries.
"""

from __future__ import annotations

from collections.abc import Iterable

SCOPE_REASONS: dict[str, str] = {
    "read_products": "mirror products and variants (titles, images, prices, inventory item ids, "
                     "published to the Online Store) and receive products/* webhooks",
    "read_inventory": "read stock per location and receive inventory_levels/update webhooks",
    "read_locations": "know which locations fulfil online orders (the sellable quantity)",
    "read_orders": "receive orders/create webhooks to count the revenue recovered by alerts "
                   "(orders also need Shopify's protected customer data access)",
}
REQUIRED_SCOPES: tuple[str, ...] = tuple(SCOPE_REASONS)


def scopes_parse(raw: str | Iterable[str] | None) -> frozenset[str]:
    """A set of scopes from Shopify's comma list (or any iterable), stripped, no empties."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    return frozenset(item.strip() for item in items if item and item.strip())


def missing_scopes(granted: Iterable[str], required: Iterable[str] = REQUIRED_SCOPES
                   ) -> frozenset[str]:
    """The required scopes `granted` lacks (Shopify: `write_x` implies `read_x`)."""
    have = set(granted)
    have |= {"read_" + scope.removeprefix("write_") for scope in have
             if scope.startswith("write_")}
    return frozenset(scope for scope in required if scope not in have)
