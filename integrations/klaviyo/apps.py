from django.apps import AppConfig


class KlaviyoConfig(AppConfig):
    name = "integrations.klaviyo"
    label = "klaviyo"
