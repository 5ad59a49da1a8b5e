"""Django app for the development tools: the demo storefront, the app proxy and admin-frame
stand-ins and `manage.py demo`. Installed only when the dev tools are on (never in production),
and no production module imports it."""

from django.apps import AppConfig


class DevConfig(AppConfig):
    name = "notifyme.dev"
    label = "dev"
    verbose_name = "Development tools"
