"""Routes of the board part (h-board): the board, shop pages, the error catalogue."""

from django.urls import URLPattern, path

from notifyme.support import board_views

urlpatterns: list[URLPattern] = [
    path("", board_views.board, name="board"),
    path("shops/<str:domain>/", board_views.shop, name="shop"),
    path("errors/", board_views.errors, name="errors"),
    path("errors/<str:source>/<str:kind>/", board_views.error, name="error"),
]
