"""Support actions on one shop (h-actions). POST-only except the retry preview (GET)."""

from django.urls import URLPattern, path

from notifyme.support import action_views as views

urlpatterns: list[URLPattern] = [
    path("shops/<str:domain>/reverify", views.shop_reverify, name="shop_reverify"),
    path("shops/<str:domain>/retry/preview", views.shop_retry_preview, name="shop_retry_preview"),
    path("shops/<str:domain>/retry", views.shop_retry, name="shop_retry"),
    path("shops/<str:domain>/pause", views.shop_pause, name="shop_pause"),
    path("shops/<str:domain>/resume", views.shop_resume, name="shop_resume"),
    path("shops/<str:domain>/reconcile", views.shop_reconcile, name="shop_reconcile"),
]
