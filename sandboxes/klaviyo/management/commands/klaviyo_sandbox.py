"""`python manage.py klaviyo_sandbox --port N [--key KEY=all|scope,scope ...]`.

Thin interface: the sandbox itself is plain WSGI without Django (`sandboxes.klaviyo`), served by
gunicorn in this process. The command exists only in development (the `sandboxes.klaviyo` app is
installed when the dev tools are on). Options are documented in sandboxes/klaviyo/server.py and
docs/sandbox.md.
"""

from __future__ import annotations

from argparse import ArgumentParser
from types import SimpleNamespace
from typing import Any

from django.core.management.base import BaseCommand

from sandboxes.klaviyo.server import add_arguments, serve


class Command(BaseCommand):
    help = "Run the local Klaviyo API sandbox (real HTTP server) on --host/--port."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        serve(SimpleNamespace(**options))
