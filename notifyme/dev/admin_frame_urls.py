"""Development-only URLs (mounted under /dev/admin/ when NOTIFYME_DEV_TOOLS)."""

from django.urls import path

from notifyme.dashboard import dev_frame

app_name = "dev_admin"
urlpatterns = [
    path("", dev_frame.admin_frame, name="frame"),
    path("token", dev_frame.token, name="token"),
]
