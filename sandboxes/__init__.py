"""Local stand-ins for the services the app talks to (Klaviyo now, Shopify next), for development,
tests and benchmarks only.

Not part of the production package (pyproject excludes it) and with its own dependencies (the
`sandbox` extra). Production code never imports it; each stand-in is a Django app only so that
`manage.py` can start it, installed when the dev tools are on (settings.NOTIFYME_DEV_TOOLS).
"""
