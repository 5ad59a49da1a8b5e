"""A mirror of the parts of the merchant's Shopify catalog that alerts need.

Products and variants removed in Shopify keep their rows (subscriptions and restock history
point at them): `removed_at` marks them, and no restock starts for them. Per-location stock
(`Location`, `InventoryLevel`) is kept so the variant's sellable quantity can be computed from
the locations the merchant counts (`CatalogSettings.alert_location_ids`; default: active
locations that fulfil online orders). Shopify ids exceed 2**53: BigIntegerField everywhere.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from notifyme.catalog.facts import product_url
from notifyme.core.models import TimeStampedModel
from notifyme.shops.models import Shop


class Product(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DRAFT = "draft", "Draft"
        ARCHIVED = "archived", "Archived"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    shopify_id = models.BigIntegerField()
    title = models.CharField(max_length=255)
    handle = models.CharField(max_length=255, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE,
                              db_default=Status.ACTIVE)
    published_online = models.BooleanField(
        default=True, db_default=True,
        help_text="Published to the Online Store (only such products restock).")
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted in Shopify (the row stays for its history).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="product_unique_per_shop")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def restockable(self) -> bool:
        """Can a restock of this product reach shoppers: published online and not removed."""
        return self.published_online and self.removed_at is None

    @property
    def url(self) -> str:
        return product_url(domain=self.shop.domain, handle=self.handle)


class Variant(TimeStampedModel):
    class InventoryPolicy(models.TextChoices):
        DENY = "deny", "Stop selling when out of stock"
        CONTINUE = "continue", "Continue selling when out of stock"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="variants")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    shopify_id = models.BigIntegerField()
    title = models.CharField(max_length=255, blank=True)
    sku = models.CharField(max_length=255, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    image_url = models.URLField(max_length=1000, blank=True)
    inventory_tracked = models.BooleanField(default=True)
    inventory_policy = models.CharField(
        max_length=16, choices=InventoryPolicy.choices, default=InventoryPolicy.DENY
    )
    available_quantity = models.IntegerField(default=0)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    inventory_item_id = models.BigIntegerField(null=True, blank=True)
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="Gone from the product in Shopify (the row stays).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="variant_unique_per_shop"),
            # Also the index `inventory_levels/update` looks variants up by.
            models.UniqueConstraint(fields=["shop", "inventory_item_id"],
                                    condition=Q(inventory_item_id__isnull=False),
                                    name="variant_inventory_item_unique_per_shop"),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} — {self.title}" if self.title else self.product.title

    @property
    def is_sellable(self) -> bool:
        """Can a shopper buy it right now (what the storefront's `available` means)."""
        return (
            not self.inventory_tracked
            or self.inventory_policy == self.InventoryPolicy.CONTINUE
            or self.available_quantity > 0
        )

    @property
    def accepts_alerts(self) -> bool:
        """An alert only makes sense for tracked stock that has run out and stops sales (and
        for a variant that still exists in Shopify)."""
        return self.inventory_tracked and not self.is_sellable and self.removed_at is None

    @property
    def product_url(self) -> str:
        product = self.product
        return product_url(domain=product.shop.domain, handle=product.handle,
                           variant_id=self.shopify_id)


class Location(TimeStampedModel):
    """A Shopify location of the shop. One first seen in a stock level (before the locations
    list told us about it) is created active and fulfilling online orders, so it counts by
    default until `services.locations_apply` says otherwise."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="locations")
    shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    fulfills_online_orders = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="location_unique_per_shop")
        ]

    def __str__(self) -> str:
        return self.name or f"location {self.shopify_id}"

    @property
    def counts_by_default(self) -> bool:
        return self.is_active and self.fulfills_online_orders


class InventoryLevel(models.Model):
    """One variant's available quantity at one location, as of Shopify's `updated_at`."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="inventory_levels",
                             db_index=False)
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="levels",
                                db_index=False)  # the unique constraint's index serves it
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="levels")
    available = models.IntegerField(default=0)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "location"],
                                    name="level_unique_per_location")
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.location_id}: {self.available}"


class CatalogSettings(TimeStampedModel):
    """The merchant's catalog choices. `alert_location_ids` (Shopify location ids): the
    locations whose stock counts for alerts; None = the default (active locations that fulfil
    online orders, including ones added later)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="catalog_settings")
    alert_location_ids = ArrayField(models.BigIntegerField(), null=True, blank=True)

    class Meta:
        verbose_name_plural = "catalog settings"

    def __str__(self) -> str:
        return f"catalog settings for {self.shop}"


# The catalog sync progress row lives in its own module (it is the sync's, not the mirror's).
from notifyme.catalog.sync_models import CatalogSync, CatalogSyncSeen  # noqa: E402, F401
