#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notifyme.settings")
    if sys.argv[1:2] == ["klaviyo_sandbox"]:
        # A local stand-in that never serves the app: tools start it with no configuration, so
        # it gets the development defaults (the app itself is production unless DEBUG=1).
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
