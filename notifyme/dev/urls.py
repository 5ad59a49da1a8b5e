"""Development-only stand-ins for Shopify, mounted at /dev/ when settings.NOTIFYME_DEV_TOOLS.

/dev/storefront/...        the demo shop's storefront (product list, product pages, cart stub)
/dev/apps/notifyme/<path>  the app proxy stand-in: signs like Shopify and forwards to /proxy/<path>
"""

from django.urls import path

from notifyme.dev import proxy, views

app_name = "dev"
urlpatterns = [
    path("", views.index, name="index"),
    path("storefront/", views.storefront, name="storefront"),
    path("storefront/products/<slug:handle>", views.product_page, name="product"),
    path("storefront/cart/add", views.cart_add, name="cart_add"),
    path("apps/notifyme/<path:subpath>", proxy.app_proxy, name="app_proxy"),
]
