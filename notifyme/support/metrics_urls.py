from django.urls import URLPattern, path

from notifyme.support.metrics_views import metrics

urlpatterns: list[URLPattern] = [
    path("metrics", metrics, name="metrics"),
]
