"""Helpers to drive /proxy/* like Shopify's app proxy would (signed query, JSON or form body)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.test import Client
from django.test.client import encode_multipart

from tests.fixtures.shopify import signed_proxy_query

SHOP = "demo-shop.myshopify.com"
SUBSCRIBE = "/proxy/subscribe"
UNSUBSCRIBE = "/proxy/unsubscribe"


def subscribe(
    client: Client,
    data: Any,
    *,
    shop_domain: str = SHOP,
    form: bool = False,
    query: str | None = None,
    **extra: Any,
) -> HttpResponse:
    """POST a subscribe body through a freshly signed proxy query."""
    url = f"{SUBSCRIBE}?{query if query is not None else signed_proxy_query(shop_domain)}"
    if form:
        return client.post(url, data, **extra)  # multipart, like fetch(FormData)
    if isinstance(data, (dict, list)):
        body: str | bytes = json.dumps(data)
    else:
        body = data
    extra.setdefault("CONTENT_TYPE", "application/json")  # also for an empty body
    return client.generic("POST", url, body, content_type="application/json", **extra)


def subscribe_urlencoded(client: Client, body: str, *, shop_domain: str = SHOP) -> HttpResponse:
    url = f"{SUBSCRIBE}?{signed_proxy_query(shop_domain)}"
    return client.generic(
        "POST", url, body, content_type="application/x-www-form-urlencoded"
    )


def multipart(data: dict[str, str]) -> bytes:
    return encode_multipart("BoUnDaRy", data)


def field_errors(response: HttpResponse) -> dict[str, list[str]]:
    return response.json()["error"].get("fields", {})
