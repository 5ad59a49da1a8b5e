"""`python manage.py shopify_standin --port N [--demo] ...`.

Thin interface: the stand-in is plain WSGI without Django (`sandboxes.shopify`), served by
gunicorn in this process. Exists only in development (the `sandboxes.shopify` app is installed
when the dev tools are on). The app's own SHOPIFY_API_KEY / SHOPIFY_API_SECRET are the defaults
for --api-key / --api-secret, so the stand-in signs what this app verifies.
"""

from __future__ import annotations

from argparse import ArgumentParser
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from sandboxes.shopify.server import add_arguments, serve


class Command(BaseCommand):
    help = "Run the local Shopify stand-in (real HTTP server) on --host/--port."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        options["api_key"] = options.get("api_key") or settings.SHOPIFY_API_KEY
        options["api_secret"] = options.get("api_secret") or settings.SHOPIFY_API_SECRET
        serve(SimpleNamespace(**options))
