from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "notifyme.core"
    label = "core"
