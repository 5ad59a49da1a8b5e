from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "notifyme.catalog"
    label = "catalog"
