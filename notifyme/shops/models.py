"""The merchant: one row per Shopify store that installed the app."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from notifyme.core import crypto
from notifyme.core.models import TimeStampedModel

#: The columns that hold the shop's Shopify grant (written, copied and forgotten together).
TOKEN_FIELDS = ("access_token_encrypted", "access_token_expires_at", "refresh_token_encrypted",
                "refresh_token_expires_at", "granted_scopes")

SHOP_DOMAIN_RE = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")


def normalize_shop_domain(value: str) -> str:
    """Lower-case and strip; raise ValidationError unless it is exactly `<name>.myshopify.com`."""
    domain = (value or "").strip().lower()
    if not SHOP_DOMAIN_RE.fullmatch(domain):
        raise ValidationError("Enter a shop domain like example.myshopify.com.", code="invalid")
    return domain


def validate_shop_domain(value: str) -> None:
    if normalize_shop_domain(value) != value:
        raise ValidationError("Shop domains are stored lower-case without spaces.", code="invalid")


class ShopQuerySet(models.QuerySet["Shop"]):
    def installed(self) -> ShopQuerySet:
        return self.filter(state=Shop.State.INSTALLED)


class Shop(TimeStampedModel):
    class State(models.TextChoices):
        INSTALLED = "installed", "Installed"
        UNINSTALLED = "uninstalled", "Uninstalled"

    class AuthState(models.TextChoices):
        """Can the app call the Admin API for this shop? `needs_reauth`: the refresh token is
        gone, expired or refused, so only the merchant opening the app again can fix it."""

        OK = "ok", "Authorized"
        NEEDS_REAUTH = "needs_reauth", "Needs re-authorization"

    domain = models.CharField(max_length=255, unique=True, validators=[validate_shop_domain])
    name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    # ISO 3166 alpha-2; the default region for shoppers' phone numbers without a country code.
    country_code = models.CharField(max_length=2, default="US")
    currency = models.CharField(max_length=3, default="USD")
    state = models.CharField(max_length=16, choices=State.choices, default=State.INSTALLED)
    installed_at = models.DateTimeField(default=timezone.now)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    # New columns carry a database default too: rows written by older code (or by historical
    # models in migration tests) stay valid.
    # Expiring offline tokens (shopify-platform.md §2): the access token lives 1 h, the refresh
    # token 90 days and rotates on every refresh; both encrypted, written together.
    access_token_encrypted = models.TextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False, db_default="")
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    granted_scopes = models.CharField(max_length=1000, blank=True, editable=False, db_default="")
    auth_state = models.CharField(max_length=16, choices=AuthState.choices, default=AuthState.OK,
                                  db_default=AuthState.OK)
    auth_state_changed_at = models.DateTimeField(null=True, blank=True)
    shopify_shop_id = models.BigIntegerField(null=True, blank=True)

    objects = ShopQuerySet.as_manager()

    def __str__(self) -> str:
        return self.domain

    @property
    def display_name(self) -> str:
        return self.name or self.domain.removesuffix(".myshopify.com")

    def secret_context(self, purpose: str) -> str:
        """Encryption context binding a secret to this shop (see notifyme.core.crypto)."""
        return f"shop:{self.domain}:{purpose}"

    def set_access_token(self, token: str) -> None:
        self.access_token_encrypted = (
            crypto.encrypt(token, context=self.secret_context("shopify_access_token"))
            if token
            else ""
        )

    def forget_tokens(self) -> None:
        """Clear every `TOKEN_FIELDS` column on this instance (the caller saves)."""
        self.access_token_encrypted = self.refresh_token_encrypted = self.granted_scopes = ""
        self.access_token_expires_at = self.refresh_token_expires_at = None

    def set_refresh_token(self, token: str) -> None:
        self.refresh_token_encrypted = (
            crypto.encrypt(token, context=self.secret_context("shopify_refresh_token"))
            if token
            else ""
        )

    def get_refresh_token(self) -> str:
        if not self.refresh_token_encrypted:
            return ""
        return crypto.decrypt(
            self.refresh_token_encrypted, context=self.secret_context("shopify_refresh_token")
        )

    def get_access_token(self) -> str:
        if not self.access_token_encrypted:
            return ""
        return crypto.decrypt(
            self.access_token_encrypted, context=self.secret_context("shopify_access_token")
        )
