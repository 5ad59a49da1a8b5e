"""Development-only stand-ins for Shopify, mounted at /dev/ when settings.NOTIFYME_DEV_TOOLS.

/dev/storefront/...        the demo shop's storefront (product list, product pages, cart stub)
/dev/apps/notifyme/<path>  the app proxy stand-in: signs like Shopify and forwards to /proxy/<path>
/dev/<fr|de|es>/...        the same product pages and proxy in the demo's other markets
"""

from django.urls import path, re_path

from notifyme.dev import proxy, views
from notifyme.dev.theme_block import DEFAULT_LOCALE, DEMO_MARKETS

# The demo's other markets, as language subfolders (Shopify: https://<shop>/fr/...).
MARKET = "|".join(locale for locale in DEMO_MARKETS if locale != DEFAULT_LOCALE)

app_name = "dev"
urlpatterns = [
    path("", views.index, name="index"),
    path("storefront/", views.storefront, name="storefront"),
    path("storefront/products/<slug:handle>", views.product_page, name="product"),
    path("storefront/cart/add", views.cart_add, name="cart_add"),
    path("apps/notifyme/<path:subpath>", proxy.app_proxy, name="app_proxy"),
    re_path(rf"^(?P<locale>{MARKET})/storefront/products/(?P<handle>[-\w]+)$",
            views.product_page, name="product_market"),
    re_path(rf"^(?P<locale>{MARKET})/apps/notifyme/(?P<subpath>.+)$", proxy.app_proxy,
            name="app_proxy_market"),
]
