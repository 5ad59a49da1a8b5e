"""What blocks/notify-me.liquid would render, computed from the catalog mirror.

The demo storefront renders the block's markup from this instead of Liquid. The texts come from
the extension's own files (the block schema's setting defaults and locales/en.default.json), so
the demo and a real theme always show the same words and load the same script.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from django.conf import settings

from notifyme.catalog.models import Product, Variant

EXTENSION_DIR = settings.BASE_DIR / "extensions" / "notifyme-theme"
BLOCK_FILE = EXTENSION_DIR / "blocks" / "notify-me.liquid"
LOCALE_FILE = EXTENSION_DIR / "locales" / "en.default.json"
SCHEMA_RE = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.DOTALL)

# What Liquid's `localization.available_countries` gives a US store selling to a few markets.
DEMO_COUNTRIES: tuple[tuple[str, str], ...] = (
    ("US", "United States"), ("CA", "Canada"), ("GB", "United Kingdom"), ("IE", "Ireland"),
    ("DE", "Germany"), ("FR", "France"), ("NL", "Netherlands"), ("AU", "Australia"),
)


def block_schema() -> dict[str, Any]:
    """The `{% schema %}` JSON of the Liquid block."""
    match = SCHEMA_RE.search(BLOCK_FILE.read_text())
    if match is None:
        raise ValueError(f"{BLOCK_FILE} has no {{% schema %}} block")
    return json.loads(match.group(1))


@cache
def block_defaults() -> dict[str, Any]:
    """The block's settings as a merchant who never changed them has them."""
    return {item["id"]: item.get("default") for item in block_schema()["settings"]
            if "id" in item}


@cache
def locale_strings() -> dict[str, str]:
    return json.loads(LOCALE_FILE.read_text())["notifyme"]


def variant_json(variant: Variant) -> dict[str, Any]:
    """One entry of the block's variant map, as Liquid's variant object describes it."""
    return {
        "id": variant.shopify_id,
        "title": variant.title,
        "available": variant.is_sellable,
        # Liquid: "shopify" when Shopify tracks the stock, nil when it does not.
        "inventory_management": "shopify" if variant.inventory_tracked else None,
        "inventory_policy": variant.inventory_policy,
    }


def block_context(
    product: Product, variants: list[Variant], selected: Variant, *, proxy_path: str
) -> dict[str, Any]:
    """The block's data- attributes and its JSON config for one product page."""
    defaults = block_defaults()
    strings = dict(locale_strings())
    strings["button"] = defaults["button_label"] or strings["button"]
    strings["consent"] = defaults["consent_text"]
    strings["sms_consent"] = defaults["sms_consent_text"]
    return {
        "attrs": {
            "proxy_path": proxy_path,
            "consent_version": defaults["consent_text_version"],
            "sms_consent_version": defaults["sms_consent_text_version"],
            "show_phone": "true" if defaults["show_phone"] else "false",
        },
        "config": {
            "product_title": product.title,
            "selected": selected.shopify_id,
            "variants": [variant_json(variant) for variant in variants],
            "country": product.shop.country_code,
            "countries": [list(country) for country in DEMO_COUNTRIES],
            "strings": strings,
        },
    }
