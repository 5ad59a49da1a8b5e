"""Writes to shops: what happens when a merchant installs (or reinstalls) the app."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from notifyme.shops.models import Shop, normalize_shop_domain


@transaction.atomic
def shop_install(
    *,
    domain: str,
    name: str = "",
    email: str = "",
    country_code: str = "US",
    currency: str = "USD",
    access_token: str = "",
) -> Shop:
    """Record an installed shop and return it; idempotent for a shop that is already installed.

    The domain is normalised (and rejected with ValidationError unless it is
    `<name>.myshopify.com`). A reinstall after an uninstall starts a new `installed_at`. The
    Shopify access token is stored encrypted, and only when one is given (a re-run without one
    keeps the stored token).
    """
    domain = normalize_shop_domain(domain)
    shop = Shop.objects.select_for_update().filter(domain=domain).first()
    if shop is None:
        shop = Shop(domain=domain)
    elif shop.state == Shop.State.UNINSTALLED:
        shop.installed_at = timezone.now()
    shop.name = name or shop.name
    shop.email = email or shop.email
    shop.country_code = country_code
    shop.currency = currency
    shop.state = Shop.State.INSTALLED
    shop.uninstalled_at = None
    if access_token:
        shop.set_access_token(access_token)
    shop.full_clean(exclude=["access_token_encrypted"])
    shop.save()
    return shop


@transaction.atomic
def shop_uninstall(*, shop: Shop) -> bool:
    """Record that the merchant removed the app; False when it was already uninstalled.

    The row and everything under it are kept (Shopify's privacy webhooks decide what is
    erased, and a reinstall picks up where the shop left off).
    """
    locked = Shop.objects.select_for_update().get(pk=shop.pk)
    if locked.state == Shop.State.UNINSTALLED:
        return False
    locked.state = Shop.State.UNINSTALLED
    locked.uninstalled_at = timezone.now()
    locked.save(update_fields=["state", "uninstalled_at", "updated_at"])
    shop.state, shop.uninstalled_at = locked.state, locked.uninstalled_at
    return True
