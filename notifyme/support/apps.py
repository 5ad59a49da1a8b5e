from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "notifyme.support"
    label = "support"
