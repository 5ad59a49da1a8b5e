"""Recovered revenue: orders that bought a variant its shopper had been alerted about.

Only what attribution needs is kept (privacy by design; `docs` in the README's "Recovered
revenue"): for an order with at least one attributed line, its Shopify id, time, currency,
channel (direct = placed after landing through the alert's link, else assisted), the customer
id and keyed digests of the normalised email and phone (for a `customers/redact`, never
readable back), and per attributed line the variant, quantity, unit price and the alert it is
attributed to. No names, addresses, totals of other lines or payment data. An order that
matches no alert leaves no row at all.

Lines are attributed with a look-back of `MAX_WINDOW_DAYS`; the merchant's window
(`AttributionSettings.window_days`, at most that) is applied when reading, so changing it
re-counts past orders instead of needing them again. A cancelled order (`orders/cancelled`)
stays, marked, and no longer counts.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.shops.models import Shop

DEFAULT_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 90


class AttributionSettings(models.Model):
    """The shop's attribution window (the default applies until the merchant saves one)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE,
                                related_name="attribution_settings")
    window_days = models.PositiveSmallIntegerField(
        default=DEFAULT_WINDOW_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)],
        help_text="An order within this many days after the alert counts as recovered.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "attribution settings"

    def __str__(self) -> str:
        return f"{self.window_days}-day window for {self.shop}"


class RecoveredOrder(models.Model):
    class Channel(models.TextChoices):
        DIRECT = "direct", "Direct (through the alert's link)"
        ASSISTED = "assisted", "Assisted"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="recovered_orders",
                             db_index=False)
    shopify_id = models.BigIntegerField()
    name = models.CharField(max_length=32, blank=True, help_text="Shopify's order name (#1001).")
    ordered_at = models.DateTimeField(help_text="Shopify's created_at of the order.")
    currency = models.CharField(max_length=3)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    customer_id = models.BigIntegerField(null=True, blank=True)
    email_digest = models.CharField(max_length=64, blank=True)
    phone_digest = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # `orders/cancelled`: a cancelled order no longer counts (kept, so a late redelivery of
    # `orders/create` cannot count it again).
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "shopify_id"],
                                               name="one_recovered_order_per_shopify_order")]
        indexes = [models.Index(fields=["shop", "ordered_at"], name="recovered_order_shop_time")]

    def __str__(self) -> str:
        return f"order {self.shopify_id} ({self.channel})"


class RecoveredLine(models.Model):
    """One attributed line: `amount` = unit price x quantity, in the order's currency."""

    order = models.ForeignKey(RecoveredOrder, on_delete=models.CASCADE, related_name="lines")
    restock = models.ForeignKey(Restock, on_delete=models.CASCADE, related_name="recovered_lines")
    # The alert it is attributed to; kept when the subscriber row goes (the sale happened).
    delivery = models.ForeignKey(RestockDelivery, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="recovered_lines")
    shopify_line_id = models.BigIntegerField()
    variant_shopify_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    notified_at = models.DateTimeField(help_text="When the alert was sent (the delivery's).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "shopify_line_id"],
                                               name="one_recovered_line_per_order_line")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_shopify_id} for {self.amount}"
