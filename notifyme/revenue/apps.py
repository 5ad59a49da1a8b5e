from django.apps import AppConfig


class RevenueConfig(AppConfig):
    name = "notifyme.revenue"
    label = "revenue"
    verbose_name = "Recovered revenue"
