from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "notifyme.support"
    label = "support"
    verbose_name = "Support"
