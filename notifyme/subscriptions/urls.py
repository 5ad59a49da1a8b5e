"""Mounted at /proxy/ (Shopify's app proxy target). No trailing slashes: Shopify forwards
`/<prefix>/<subpath>/subscribe` to `/proxy/subscribe`, and a slash redirect would turn a POST
into a GET."""

from django.urls import path

from notifyme.subscriptions.unsubscribe_views import unsubscribe
from notifyme.subscriptions.views import subscribe

app_name = "subscriptions"
urlpatterns = [
    path("subscribe", subscribe, name="subscribe"),
    path("unsubscribe", unsubscribe, name="unsubscribe"),
]
