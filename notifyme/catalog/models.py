"""A mirror of the parts of the merchant's Shopify catalog that alerts need."""

from __future__ import annotations

from django.db import models

from notifyme.catalog.facts import product_url
from notifyme.core.models import TimeStampedModel
from notifyme.shops.models import Shop


class Product(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    shopify_id = models.BigIntegerField()
    title = models.CharField(max_length=255)
    handle = models.CharField(max_length=255, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    shopify_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="product_unique_per_shop")
        ]

    def __str__(self) -> str:
        return self.title

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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopify_id"], name="variant_unique_per_shop")
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
        """An alert only makes sense for tracked stock that has run out and stops sales."""
        return self.inventory_tracked and not self.is_sellable

    @property
    def product_url(self) -> str:
        product = self.product
        return product_url(domain=product.shop.domain, handle=product.handle,
                           variant_id=self.shopify_id)


# The catalog sync progress row lives in its own module (it is the sync's, not the mirror's).
from notifyme.catalog.sync_models import CatalogSync  # noqa: E402, F401
