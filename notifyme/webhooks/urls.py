"""Mounted at /webhooks/ (the `uri` of every subscription in shopify.app.toml)."""

from django.urls import path

from notifyme.webhooks.views import shopify_webhook

app_name = "webhooks"
urlpatterns = [path("shopify", shopify_webhook, name="shopify")]
