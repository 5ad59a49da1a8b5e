from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "notifyme.shops"
    label = "shops"
