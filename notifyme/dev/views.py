"""Development-only pages: the demo storefront that exercises the storefront block end to end.

Mounted at /dev/ only when settings.NOTIFYME_DEV_TOOLS (never in production). The product page
plays the part of a theme's product template: a `form[action$="/cart/add"]` with a variant
picker named `id`, plus the notify-me block rendered as blocks/notify-me.liquid would render it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from notifyme.catalog.models import Product, Variant
from notifyme.dev.demo import DEMO_SHOP_DOMAIN, demo_product_seed
from notifyme.dev.theme_block import (
    DEFAULT_LOCALE,
    DEMO_MARKETS,
    Market,
    block_render,
    market_price_cents,
    money,
)
from notifyme.shops.models import Shop

PROXY_PATH = "/dev/apps/notifyme"


def _price(variant: Variant, market: Market) -> str:
    return money(market_price_cents(variant.price, market), market.money_format)


@dataclass(frozen=True)
class ProductCard:
    product: Product
    variants: list[Variant]

    @property
    def price(self) -> str:
        prices = sorted({variant.price for variant in self.variants})
        if not prices:
            return ""
        return f"${prices[0]:.2f}" if len(prices) == 1 else f"From ${prices[0]:.2f}"

    @property
    def sold_out(self) -> bool:
        return not any(variant.is_sellable for variant in self.variants)

    @property
    def some_sold_out(self) -> bool:
        return any(not variant.is_sellable for variant in self.variants)


def _demo_shop() -> Shop | None:
    return Shop.objects.filter(domain=DEMO_SHOP_DOMAIN).first()


def _products(shop: Shop) -> list[ProductCard]:
    variants = Prefetch("variants", queryset=Variant.objects.order_by("shopify_id"))
    products = Product.objects.filter(shop=shop).order_by("shopify_id").prefetch_related(variants)
    return [ProductCard(product, list(product.variants.all())) for product in products]


def _no_demo(request: HttpRequest) -> HttpResponse:
    return render(request, "dev/no_demo.html", status=404)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Links to every local stand-in: storefront, merchant admin frame, support admin."""
    api = urlsplit(settings.KLAVIYO_API_URL)
    local = api.hostname in {"127.0.0.1", "localhost", "::1"}
    return render(request, "dev/index.html", {
        "shop": _demo_shop(),
        "proxy_path": PROXY_PATH,
        "sandbox_url": f"{settings.KLAVIYO_API_URL}/_sandbox/" if local else "",
    })


@require_GET
def storefront(request: HttpRequest) -> HttpResponse:
    """The demo shop's product list (its 'collection/all' page)."""
    shop = _demo_shop()
    if shop is None:
        return _no_demo(request)
    return render(request, "dev/storefront.html", {"shop": shop, "cards": _products(shop)})


def _stock(variant: Variant) -> tuple[str, str]:
    """The theme's stock line for a variant: (state, label)."""
    if not variant.inventory_tracked:
        return "in", "In stock"
    if variant.available_quantity > 3:
        return "in", "In stock"
    if variant.available_quantity > 0:
        return "low", f"Low stock: {variant.available_quantity} left"
    if variant.inventory_policy == Variant.InventoryPolicy.CONTINUE:
        return "backorder", "Out of stock: order now, ships when restocked"
    return "sold-out", "Sold out"


def _theme_variants(variants: list[Variant], market: Market) -> dict[str, dict[str, object]]:
    """What the demo theme's own script needs to keep price, stock and Add to cart current."""
    data: dict[str, dict[str, object]] = {}
    for variant in variants:
        state, label = _stock(variant)
        data[str(variant.shopify_id)] = {
            "title": variant.title, "price": _price(variant, market),
            "available": variant.is_sellable, "stock_state": state, "stock_label": label,
        }
    return data


def _selected_variant(variants: list[Variant], requested: str | None) -> Variant:
    """Liquid's `product.selected_or_first_available_variant`."""
    by_id = {str(variant.shopify_id): variant for variant in variants}
    if requested and requested in by_id:
        return by_id[requested]
    return next((variant for variant in variants if variant.is_sellable), variants[0])


@require_GET
def product_page(request: HttpRequest, handle: str, locale: str = DEFAULT_LOCALE) -> HttpResponse:
    """A theme's product page for one demo product, with the notify-me block in it.

    `locale` picks the demo market (`/dev/<locale>/storefront/...`): the block's language,
    currency and routes.root_url, as on a store with that market's language subfolder.
    """
    market = DEMO_MARKETS.get(locale)
    if market is None:
        raise Http404("No such demo market")
    shop = _demo_shop()
    if shop is None:
        return _no_demo(request)
    card = next((card for card in _products(shop) if card.product.handle == handle), None)
    if card is None or not card.variants:
        raise Http404("No such demo product")
    selected = _selected_variant(card.variants, request.GET.get("variant"))
    seed = demo_product_seed(handle)
    return render(request, "dev/product.html", {
        "shop": shop,
        "card": card,
        "product": card.product,
        "variants": card.variants,
        "selected": selected,
        "option_name": seed.option_name if seed else "Option",
        "description": seed.description if seed else "",
        "locale": market.locale,
        "price": _price(selected, market),
        "nm_block": block_render(card.product, card.variants, selected, locale=market.locale),
        "theme_variants": _theme_variants(card.variants, market),
        "added": request.GET.get("added") == "1",
    })


@csrf_exempt  # Shopify's /cart/add takes plain form posts; so does this stand-in.
@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    """No cart in the demo: go back to the product and say so."""
    variant = Variant.objects.filter(
        shop__domain=DEMO_SHOP_DOMAIN, shopify_id=request.POST.get("id", "0") or 0
    ).select_related("product").first()
    if variant is None or not variant.is_sellable:
        return HttpResponseRedirect(reverse("dev:storefront"))
    url = reverse("dev:product", args=[variant.product.handle])
    return HttpResponseRedirect(f"{url}?variant={variant.shopify_id}&added=1")
