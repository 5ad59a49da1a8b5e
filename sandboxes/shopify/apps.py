"""Django app for the Shopify stand-in: only so `manage.py shopify_standin` exists in
development (settings add it when the dev tools are on). The stand-in is plain WSGI."""

from django.apps import AppConfig


class ShopifyStandinConfig(AppConfig):
    name = "sandboxes.shopify"
    label = "shopify_standin"
    verbose_name = "Shopify stand-in (development)"
