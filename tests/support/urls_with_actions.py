"""A URLconf with the board's routes plus one stand-in action route, as when the actions part
is installed: the shop page must then offer its button (and only that one)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from notifyme.support import board_urls


def _pause(request: HttpRequest, domain: str) -> HttpResponse:
    return HttpResponse(f"paused {domain}")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("support/", include(([*board_urls.urlpatterns,
                               path("shops/<str:domain>/pause/", _pause, name="shop_pause")],
                              "support"))),
]
