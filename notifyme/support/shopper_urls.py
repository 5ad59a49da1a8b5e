"""`/support/shoppers/?q=…` (search) and `/support/shoppers/<id>/` (the shopper of that alert)."""

from django.urls import URLPattern, path

from notifyme.support import shopper_views

urlpatterns: list[URLPattern] = [
    path("shoppers/", shopper_views.shopper_search, name="shoppers"),
    path("shoppers/<int:subscription_id>/", shopper_views.shopper_detail, name="shopper"),
]
