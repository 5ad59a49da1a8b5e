"""The embedded merchant app: the settings document, its bounce page and its JSON API."""

from django.urls import include, path

from notifyme.dashboard import api, flow_api, privacy_api, views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("bounce", views.bounce, name="bounce"),
    path("api/klaviyo", api.status, name="api_status"),
    path("api/klaviyo/connect", api.connect, name="api_connect"),
    path("api/klaviyo/disconnect", api.disconnect, name="api_disconnect"),
    path("api/klaviyo/lists", api.lists, name="api_lists"),
    path("api/klaviyo/list", api.list_set, name="api_list"),
    path("api/klaviyo/retest", api.retest, name="api_retest"),
    path("api/klaviyo/panel", views.panel, name="api_panel"),
    path("api/klaviyo/flow", flow_api.panel, name="api_flow"),
    path("api/klaviyo/flow/check", flow_api.check, name="api_flow_check"),
    path("api/klaviyo/flow/create", flow_api.create, name="api_flow_create"),
    path("api/restocks", include("notifyme.dashboard.restock_api")),
    path("api/locations", include("notifyme.dashboard.locations_api")),
    path("api/privacy", privacy_api.overview, name="api_privacy"),
    path("api/privacy/", include("notifyme.dashboard.privacy_api")),
    path("api/catalog/", include("notifyme.dashboard.catalog_api")),
    path("", include("notifyme.dashboard.subscribers_api")),
    path("", include("notifyme.dashboard.demand_views")),
    path("", include("notifyme.dashboard.restocks_views")),
    path("", include("notifyme.dashboard.revenue_urls")),
]
