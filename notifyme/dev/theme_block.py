"""The demo storefront's notify-me block: blocks/notify-me.liquid itself, rendered here.

The demo renders the extension's real Liquid file with python-liquid, from the catalog mirror,
with the few Shopify-only pieces it uses played here: the `t` filter (the extension's
`locales/<locale>.json`, falling back to `en.default.json` key by key, as Shopify does), `json`,
`money` (the market's money format), `asset_url` (the extension's assets/, served as static
files), the `{% schema %}` tag (its settings' defaults become
`block.settings`), and the Liquid objects `block`, `product`, `request.locale`, `localization`
and `routes.root_url`. So the demo and a real theme show the same words, the same JSON and the
same data- attributes, and load the same script: nothing is written twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe
from liquid import Environment

from notifyme.catalog.models import Product, Variant

EXTENSION_DIR = settings.BASE_DIR / "extensions" / "notifyme-theme"
BLOCK_FILE = EXTENSION_DIR / "blocks" / "notify-me.liquid"
LOCALES_DIR = EXTENSION_DIR / "locales"
DEFAULT_LOCALE = "en"
SCHEMA_RE = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.DOTALL)

# What Liquid's `localization.available_countries` gives a US store selling to a few markets.
DEMO_COUNTRIES: tuple[tuple[str, str], ...] = (
    ("US", "United States"), ("CA", "Canada"), ("GB", "United Kingdom"), ("IE", "Ireland"),
    ("DE", "Germany"), ("FR", "France"), ("ES", "Spain"), ("NL", "Netherlands"),
    ("AU", "Australia"),
)


@dataclass(frozen=True)
class Market:
    """One of the demo shop's markets: what Shopify's Liquid knows on a page in it.

    `root_url` is `routes.root_url` (Shopify: "/" or "/fr"; the demo's storefront root is /dev),
    `money_format` the shop's format for `currency`, `rate` the demo's fixed exchange rate from
    the shop's currency (Shopify converts prices before Liquid sees them).
    """

    locale: str
    root_url: str
    country: str
    currency: str
    money_format: str
    rate: Decimal


DEMO_MARKETS: dict[str, Market] = {
    "en": Market("en", "/dev", "US", "USD", "${{amount}}", Decimal(1)),
    "fr": Market("fr", "/dev/fr", "FR", "EUR", "{{amount_with_comma_separator}} €",
                 Decimal("0.92")),
    "de": Market("de", "/dev/de", "DE", "EUR", "{{amount_with_comma_separator}} €",
                 Decimal("0.92")),
    "es": Market("es", "/dev/es", "ES", "EUR", "{{amount_with_comma_separator}} €",
                 Decimal("0.92")),
}


def block_source() -> str:
    return BLOCK_FILE.read_text()


def block_schema() -> dict[str, Any]:
    """The `{% schema %}` JSON of the Liquid block."""
    match = SCHEMA_RE.search(block_source())
    if match is None:
        raise ValueError(f"{BLOCK_FILE} has no {{% schema %}} block")
    return json.loads(match.group(1))


@cache
def block_defaults() -> dict[str, Any]:
    """The block's settings as a merchant who never changed them has them (None: no default)."""
    return {item["id"]: item.get("default") for item in block_schema()["settings"]
            if "id" in item}


def _locale_file(locale: str) -> dict[str, Any]:
    name = f"{DEFAULT_LOCALE}.default.json" if locale == DEFAULT_LOCALE else f"{locale}.json"
    return json.loads((LOCALES_DIR / name).read_text())


@cache
def locale_strings(locale: str = DEFAULT_LOCALE) -> dict[str, str]:
    """The block's storefront texts in `locale`, English for any key the locale lacks."""
    strings = dict(_locale_file(DEFAULT_LOCALE)["notifyme"])
    if locale != DEFAULT_LOCALE:
        strings.update(_locale_file(locale)["notifyme"])
    return strings


def money(cents: int, money_format: str) -> str:
    """Shopify's `money` filter: `cents` in the shop's money format ({{amount}} and kin)."""
    amount = (Decimal(cents) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    forms = {
        "amount": f"{amount:,.2f}",
        "amount_no_decimals": f"{whole:,.0f}",
        "amount_with_comma_separator": f"{amount:,.2f}".translate(str.maketrans(",.", ".,")),
        "amount_no_decimals_with_comma_separator": f"{whole:,.0f}".replace(",", "."),
    }
    return re.sub(r"{{\s*(\w+)\s*}}", lambda m: forms.get(m.group(1), m.group(0)), money_format)


def _json(value: Any) -> str:
    """Shopify's `json` filter; `<`, `>` and `&` escaped so a title can never end the script."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def _environment(locale: str, money_format: str) -> Environment:
    strings = locale_strings(locale)
    env = Environment()
    env.filters["t"] = lambda key: strings.get(str(key).removeprefix("notifyme."),
                                               f"translation missing: {locale}.{key}")
    env.filters["json"] = _json
    env.filters["money"] = lambda cents: money(int(cents), money_format)
    # The extension's assets/ is served under static/notifyme-theme/ (settings.STATICFILES_DIRS).
    env.filters["asset_url"] = lambda name: static(f"notifyme-theme/{name}")
    return env


def market_price_cents(amount: Decimal, market: Market) -> int:
    """A price in the shop's currency, in the market's currency, in cents (as Liquid has it)."""
    return int((amount * market.rate * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _variant_object(variant: Variant, market: Market) -> dict[str, Any]:
    """Liquid's `variant` object, the fields the block reads."""
    return {
        "id": variant.shopify_id,
        "title": variant.title,
        "available": variant.is_sellable,
        # Liquid: "shopify" when Shopify tracks the stock, nil when it does not.
        "inventory_management": "shopify" if variant.inventory_tracked else None,
        "inventory_policy": variant.inventory_policy,
        "price": market_price_cents(variant.price, market),
    }


def block_render(
    product: Product,
    variants: list[Variant],
    selected: Variant,
    *,
    locale: str = DEFAULT_LOCALE,
    market: Market | None = None,
    overrides: Mapping[str, Any] | None = None,
    block_id: str = "demo",
) -> SafeString:
    """blocks/notify-me.liquid for one product page in the market of `locale`.

    `market` replaces the demo market of `locale` (its `locale` then picks the language);
    `overrides` are the merchant's block settings (theme editor) over the schema defaults.
    Raises KeyError for a locale that is not a demo market.
    """
    market = market or DEMO_MARKETS[locale]
    context = {
        "block": {"id": block_id, "settings": {**block_defaults(), **(overrides or {})},
                  "shopify_attributes": ""},
        "product": {
            "title": product.title,
            "variants": [_variant_object(variant, market) for variant in variants],
            "selected_or_first_available_variant": _variant_object(selected, market),
        },
        "request": {"locale": {"iso_code": market.locale}},
        "routes": {"root_url": market.root_url},
        "localization": {
            "country": {"iso_code": market.country},
            "available_countries": [{"iso_code": code, "name": name}
                                    for code, name in DEMO_COUNTRIES],
        },
    }
    env = _environment(market.locale, market.money_format)
    template = env.from_string(SCHEMA_RE.sub("", block_source()))
    # Shopify's Liquid output, not user input: the block escapes what it prints itself.
    return mark_safe(template.render(**context))  # noqa: S308
