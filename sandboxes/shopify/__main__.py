"""`python -m sandboxes.shopify --port N ...` (server.py), `... stock SHOP VARIANT QTY` (cli.py)."""

from .server import main

main()
