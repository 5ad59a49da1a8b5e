"""Installing the app into a shop: Shopify's grant → an installed shop with fresh tokens.

Two ways in, one way through (`_install_with_grant`):
- Shopify-managed installation (embedded): the first admin load carries an App Bridge ID token
  and the app has no usable token for the shop → `shop_install_from_id_token` exchanges the
  ID token for an expiring offline token (`token_exchange`, `expiring=1`).
- The authorization-code grant (a non-embedded install link, `notifyme.shops.oauth`) →
  `shop_install_from_code` (`code_exchange`, `expiring=1`).

Then, in one transaction: `shop_install` (a reinstall after an uninstall starts clean: a new
`installed_at`, no token of the previous install), `tokens_store` (encrypted, with their
expiry), the shop's name, email, currency and country from the `ShopInfo` query made with the
new token, and `hooks.shop_installed` (the catalog app queues the initial catalog sync on
commit). If any step fails nothing is written: no half-installed shop, and the next admin load
simply exchanges again (a newly issued token retires the older one at Shopify).

One exchange per shop at a time: the whole step runs under a PostgreSQL advisory lock keyed by
the shop domain (the shop row may not exist yet, so a row lock cannot do), and a caller that
waited for it re-reads the shop and reuses the winner's tokens instead of exchanging again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from integrations.shopify.client import AdminClient
from integrations.shopify.documents import DOCUMENTS
from integrations.shopify.tokens import TokenGrant, code_exchange, token_exchange, tokens_store
from notifyme.shops import hooks
from notifyme.shops.models import Shop, normalize_shop_domain
from notifyme.shops.services import shop_install


def shop_token_usable(shop: Shop | None) -> bool:
    """Can the app call the Admin API for `shop` without the merchant: installed, authorized
    and holding a refresh token that has not expired (the access token is refreshed from it)."""
    if shop is None or shop.state != Shop.State.INSTALLED:
        return False
    if shop.auth_state != Shop.AuthState.OK or not shop.refresh_token_encrypted:
        return False
    expires = shop.refresh_token_expires_at
    return expires is None or expires > timezone.now()


def _install_lock(domain: str) -> None:
    """Hold the shop's install lock until the transaction ends (PostgreSQL; SQLite serialises
    writers anyway)."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"shop-install:{domain}".encode()).digest()[:8],
                         "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def shop_install_from_id_token(*, id_token: str, shop_domain: str) -> Shop:
    """The installed shop for a verified ID token: the stored one when its token is usable,
    else a token exchange and an install. Raises `InvalidSubjectToken` (Shopify refused the ID
    token: bounce for a new one), `ShopifyUnavailable`, other `ShopifyError`s."""
    domain = normalize_shop_domain(shop_domain)
    with transaction.atomic():
        _install_lock(domain)
        shop = Shop.objects.filter(domain=domain).first()
        if shop_token_usable(shop):
            assert shop is not None
            return shop  # installed meanwhile by the request that held the lock
        grant = token_exchange(shop_domain=domain, id_token=id_token)
        return _install_with_grant(domain, grant)


def shop_install_from_code(*, code: str, shop_domain: str) -> Shop:
    """Install with an authorization code from the OAuth callback (single use at Shopify, so
    always exchanged: the merchant just approved the app)."""
    domain = normalize_shop_domain(shop_domain)
    with transaction.atomic():
        _install_lock(domain)
        grant = code_exchange(shop_domain=domain, code=code)
        return _install_with_grant(domain, grant)


def _install_with_grant(domain: str, grant: TokenGrant) -> Shop:
    shop = shop_install(domain=domain)
    tokens_store(shop=shop, grant=grant)
    shop.refresh_from_db()
    if shop.auth_state != Shop.AuthState.OK:
        shop.auth_state, shop.auth_state_changed_at = Shop.AuthState.OK, timezone.now()
        shop.save(update_fields=["auth_state", "auth_state_changed_at", "updated_at"])
    info = shop_info(AdminClient(shop).run(DOCUMENTS["ShopInfo"]))
    shop = shop_install(domain=domain, **info)
    hooks.install_reactions(shop=shop)
    return shop


def shop_info(data: Mapping[str, Any]) -> dict[str, Any]:
    """`ShopInfo`'s data → `shop_install` keyword arguments (what Shopify left out is left out,
    so the stored value or the default stays)."""
    raw = data.get("shop")
    node: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    info: dict[str, Any] = {}
    for key, name in (("name", "name"), ("email", "email"), ("currencyCode", "currency")):
        if isinstance(node.get(key), str) and node[key]:
            info[name] = node[key]
    for key in ("billingAddress", "shopAddress", "address"):
        address = node.get(key)
        if isinstance(address, dict):
            code = address.get("countryCodeV2") or address.get("countryCode")
            if isinstance(code, str) and len(code) == 2:
                info["country_code"] = code.upper()
                break
    raw_id = str(node.get("id") or "").rsplit("/", 1)[-1]
    if raw_id.isdigit():
        info["shopify_shop_id"] = int(raw_id)
    return info
