"""`python -m sandboxes.klaviyo --port N ...` (see server.py for options)."""

from .server import main

main()
