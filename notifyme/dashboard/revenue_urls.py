"""Recovered revenue's routes, mounted at /app/ by one `include` line in urls.py."""

from django.urls import path

from notifyme.dashboard import revenue_views

urlpatterns = [
    path("revenue", revenue_views.revenue_page, name="revenue"),
    path("api/revenue", revenue_views.revenue_api, name="api_revenue"),
    path("api/revenue/panel", revenue_views.revenue_panel, name="api_revenue_panel"),
]
