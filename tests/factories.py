"""Test data made the way the product makes it: through the services, never by hand.

- `shop_make(domain, **fields)`: an installed shop (`notifyme.shops.services.shop_install`)
  holding an expiring offline grant (`tokens_store(grant=grant_make())`), as after an install.
- `variant_make(shop, ...)`: a product and variant of the shop's catalog mirror, through
  `product_upsert`/`variant_upsert` (the write path of `manage.py demo` and Shopify's catalog
  sync). A product already made for `product_id` is shared, not refreshed.
- `subscription_make(shop, variant, email=..., ...)`: `subscription_create` (the row and its
  PROFILE_SYNC outbox row, as a storefront signup writes them).
- `subscriptions_bulk_make(shop, variant, count, ...)`: thousands of signups in a few queries,
  in exactly the state `subscription_create` leaves them (tests/test_factories.py compares a
  bulk-made row with a service-made one field by field, so the two cannot drift apart).
- `klaviyo_connect(shop, sandbox, scopes=...)`: a fresh sandbox account and key, connected with
  `connection_connect` (verification, list choice and encryption as the merchant's connect).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import connection_connect
from integrations.shopify.tokens import TokenGrant, tokens_store
from notifyme.catalog.models import Product, Variant
from notifyme.catalog.services import product_upsert, variant_upsert
from notifyme.shops.models import Shop
from notifyme.shops.services import shop_install
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.sync.models import OutboxItem
from notifyme.sync.services import sync_nudge

DEFAULT_SHOP = "demo-shop.myshopify.com"
BATCH = 2000


def grant_make(*, access_token: str = "shpat_test_access_token",  # noqa: S107
               refresh_token: str = "shprt_test_refresh_token") -> TokenGrant:  # noqa: S107
    """An expiring offline grant as Shopify hands it out (1 h access, 90 days refresh)."""
    now = timezone.now()
    return TokenGrant(access_token=access_token, access_expires_at=now + timedelta(hours=1),
                      refresh_token=refresh_token,
                      refresh_expires_at=now + timedelta(days=90),
                      scopes=frozenset({"read_products", "read_inventory", "read_locations",
                                         "read_orders"}))


def shop_grant(domain: str = DEFAULT_SHOP) -> Shop:
    """Give an installed shop (e.g. the one `manage.py demo` wrote, which has no Shopify token)
    a stored grant, as the install's token exchange would: opening the app exchanges nothing."""
    shop = Shop.objects.get(domain=domain)
    tokens_store(shop=shop, grant=grant_make())
    shop.refresh_from_db()
    return shop


def shop_make(domain: str = DEFAULT_SHOP, *, tokens: bool = True, **fields: Any) -> Shop:
    """An installed shop as an install leaves it: `shop_install`, then (unless `tokens=False`)
    a stored grant (`tokens_store`), so opening the app needs no token exchange."""
    fields.setdefault("name", "Demo Shop")
    shop = shop_install(domain=domain, **fields)
    if tokens:
        tokens_store(shop=shop, grant=grant_make())
        shop.refresh_from_db()
    return shop


def variant_make(
    shop: Shop,
    *,
    shopify_id: int = 4001,
    product_id: int = 9001,
    quantity: int = 0,
    tracked: bool = True,
    policy: str = Variant.InventoryPolicy.DENY,
    title: str = "Large",
    product_title: str = "Linen Shirt",
) -> Variant:
    """A variant of a (shared, by `product_id`) product, through the catalog's upserts."""
    product = Product.objects.filter(shop=shop, shopify_id=product_id).first()
    if product is None:
        product, _ = product_upsert(shop=shop, shopify_id=product_id, title=product_title,
                                    handle="linen-shirt",
                                    image_url="https://cdn.example.com/shirt.jpg")
    return variant_upsert(
        product=product, shopify_id=shopify_id, title=title, sku=f"SKU-{shopify_id}",
        price=Decimal("49.00"), quantity=quantity, inventory_tracked=tracked,
        inventory_policy=policy,
    ).variant


def subscription_make(
    shop: Shop, variant: Variant, *, email: str = "ada@example.com", **fields: Any
) -> Subscription:
    """One signup through `subscription_create` (same keyword arguments)."""
    subscription, _ = subscription_create(shop=shop, variant=variant, email=email, **fields)
    return subscription


def subscriptions_bulk_make(
    shop: Shop,
    variant: Variant,
    count: int,
    *,
    start: int = 0,
    prefix: str = "shopper",
    domain: str = "shop.test",
    phone_every: int = 0,
    consent_every: int = 0,
    sms_consent_every: int = 0,
    first_name: str = "",
    locale: str = "",
    consent_text_version: str = "v1",
    sms_consent_text_version: str = "sms-v1",
    source: str = Subscription.Source.STOREFRONT,
) -> list[Subscription]:
    """`count` signups as `subscription_create` writes them, with bulk inserts.

    Shopper `i` (from `start`) is `<prefix><i>@<domain>`; every `phone_every`-th also leaves
    `+1415555<i:04d>`, every `consent_every`-th ticks the email marketing box and every
    `sms_consent_every`-th the SMS one (0: none; SMS consent only counts with a phone). Like the
    service: one PROFILE_SYNC outbox row each, and one nudge after the commit.
    """
    now = timezone.now()
    rows = []
    for i in range(start, start + count):
        consent = bool(consent_every) and i % consent_every == 0
        phone = f"+1415555{i:04d}" if phone_every and i % phone_every == 0 else ""
        sms = bool(phone) and bool(sms_consent_every) and i % sms_consent_every == 0
        email = f"{prefix}{i}@{domain}"
        rows.append(Subscription(
            shop=shop, variant=variant, email=email, email_display=email, phone=phone,
            first_name=first_name, notify_by_email=bool(email), notify_by_sms=bool(phone),
            marketing_consent=consent,
            consent_text_version=consent_text_version if consent else "",
            consented_at=now if consent else None,
            sms_consent=sms, sms_consent_text_version=sms_consent_text_version if sms else "",
            sms_consented_at=now if sms else None, source=source, locale=locale,
        ))
    with transaction.atomic():
        subscriptions = Subscription.objects.bulk_create(rows, batch_size=BATCH)
        OutboxItem.objects.bulk_create(
            [OutboxItem(shop=shop, subscription=s, kind=OutboxItem.Kind.PROFILE_SYNC)
             for s in subscriptions], batch_size=BATCH)
        transaction.on_commit(lambda: sync_nudge(shop_id=shop.pk))
    return subscriptions


@dataclass
class Connected:
    connection: KlaviyoConnection
    account_id: str
    key: str

    @property
    def list_id(self) -> str:
        return self.connection.list_id


def klaviyo_connect(shop: Shop, sandbox: Any, *, scopes: list[str] | str = "all",
                    account_name: str = "") -> Connected:
    """Connect `shop` to a new sandbox account the way the merchant's connect does."""
    account, key = sandbox.new_account(account_name or f"Klaviyo of {shop.domain}",
                                       scopes=scopes)
    connection = connection_connect(shop=shop, private_key=key)
    return Connected(connection=connection, account_id=account["id"], key=key)
