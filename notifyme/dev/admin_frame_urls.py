"""Development-only URLs of the admin-frame stand-in (mounted under /dev/admin/ when
NOTIFYME_DEV_TOOLS)."""

from django.urls import path

from notifyme.dev import admin_frame

app_name = "dev_admin"
urlpatterns = [
    path("", admin_frame.admin_frame, name="frame"),
    path("token", admin_frame.token, name="token"),
]
