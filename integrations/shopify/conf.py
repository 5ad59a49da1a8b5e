"""Where the app reaches Shopify: the one place the Admin API version is pinned.

`SHOPIFY_ADMIN_URL` (settings) is a template with `{shop}`, default `https://{shop}`; the OAuth
token endpoint and the GraphQL endpoint are appended to it, so tests, the demo and benchmarks
point the app at the local stand-in with one variable.
"""

from __future__ import annotations

from django.conf import settings

API_VERSION = "2026-10"


def admin_base(shop_domain: str) -> str:
    """`SHOPIFY_ADMIN_URL` for this shop, without a trailing slash."""
    return str(settings.SHOPIFY_ADMIN_URL).replace("{shop}", shop_domain).rstrip("/")


def token_url(shop_domain: str) -> str:
    return f"{admin_base(shop_domain)}/admin/oauth/access_token"


def graphql_url(shop_domain: str) -> str:
    return f"{admin_base(shop_domain)}/admin/api/{API_VERSION}/graphql.json"
