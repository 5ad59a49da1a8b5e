"""Writes to shops: what happens when a merchant installs (or reinstalls) the app."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from notifyme.shops import hooks
from notifyme.shops.models import TOKEN_FIELDS, Shop, normalize_shop_domain


# The Shopify grant (`TOKEN_FIELDS`) is cleared on uninstall (Shopify has already revoked the
# access token then) and before a reinstall stores its new grant.
@transaction.atomic
def shop_install(
    *,
    domain: str,
    name: str = "",
    email: str = "",
    country_code: str | None = None,
    currency: str | None = None,
    access_token: str = "",
    shopify_shop_id: int | None = None,
) -> Shop:
    """Record an installed shop and return it; idempotent for a shop that is already installed.

    The domain is normalised (and rejected with ValidationError unless it is
    `<name>.myshopify.com`). A reinstall after an uninstall starts a new `installed_at`. The
    Shopify access token is stored encrypted, and only when one is given (a re-run without one
    keeps the stored token). Country and currency left out keep the stored values (new shop:
    US / USD); the expiring tokens of a real install are stored by `notifyme.shops.install`.

    A reinstall starts clean: no token of the previous install survives (`uninstall` cleared
    them; cleared again here in case one was written since), and `hooks.shop_reinstalled`
    fires in this transaction so held work can resume (the sync app nudges the shop's outbox
    when its Klaviyo connection is still connected; see docs/privacy.md). The subscribers are
    still there: only `shop/redact` erases them.
    """
    domain = normalize_shop_domain(domain)
    shop = Shop.objects.select_for_update().filter(domain=domain).first()
    reinstall = shop is not None and shop.state == Shop.State.UNINSTALLED
    if shop is None:
        shop = Shop(domain=domain)
    elif reinstall:
        shop.installed_at = timezone.now()
        shop.forget_tokens()
    shop.name = name or shop.name
    shop.email = email or shop.email
    shop.country_code = country_code or shop.country_code
    shop.currency = currency or shop.currency
    shop.shopify_shop_id = shopify_shop_id or shop.shopify_shop_id
    shop.state = Shop.State.INSTALLED
    shop.uninstalled_at = None
    if access_token:
        shop.set_access_token(access_token)
    shop.full_clean(exclude=["access_token_encrypted"])
    shop.save()
    if reinstall:
        hooks.reinstall_reactions(shop=shop)
    return shop


@transaction.atomic
def shop_uninstall(*, shop: Shop) -> bool:
    """Record that the merchant removed the app (`app/uninstalled`); False when it was already
    uninstalled (a redelivery changes nothing).

    In one transaction: state → uninstalled, the Shopify tokens and scopes are forgotten, and
    `hooks.shop_uninstalled` fires (the restocks app cancels running restocks; the sync and
    restock workers refuse an uninstalled shop's work from now on, so no Klaviyo call is made
    for it). The row, the subscribers and the Klaviyo connection are kept: `shop/redact`
    (48 h later) erases them, and a reinstall before that finds the waitlist where it was.
    """
    locked = Shop.objects.select_for_update().get(pk=shop.pk)
    if locked.state == Shop.State.UNINSTALLED:
        return False
    locked.state = Shop.State.UNINSTALLED
    locked.uninstalled_at = timezone.now()
    locked.forget_tokens()
    locked.save(update_fields=["state", "uninstalled_at", *TOKEN_FIELDS, "updated_at"])
    hooks.uninstall_reactions(shop=locked)
    for name in ("state", "uninstalled_at", *TOKEN_FIELDS):
        setattr(shop, name, getattr(locked, name))
    return True
