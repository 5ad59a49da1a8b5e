"""`python -m integrations.klaviyo.sandbox --port N ...` (see server.py for options)."""

from .server import main

main()
