from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "notifyme.dashboard"
    label = "dashboard"
