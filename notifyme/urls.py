from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from notifyme.core.openapi import openapi_json
from notifyme.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("openapi.json", openapi_json, name="openapi"),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("proxy/", include("notifyme.subscriptions.urls")),
    path("app/", include("notifyme.dashboard.urls")),
    path("webhooks/", include("notifyme.webhooks.urls")),
    path("auth/", include("notifyme.shops.oauth")),
    path("support/", include("notifyme.support.urls")),
]

if settings.NOTIFYME_DEV_TOOLS:
    # Local stand-ins for Shopify (storefront proxy, admin frame); never mounted in production.
    # Dotted strings: production never imports notifyme.dev (it is installed only with dev tools).
    urlpatterns += [path("dev/admin/", include("notifyme.dev.admin_frame_urls"))]
    urlpatterns += [path("dev/", include("notifyme.dev.urls"))]
