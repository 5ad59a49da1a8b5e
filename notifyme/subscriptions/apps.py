from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "notifyme.subscriptions"
    label = "subscriptions"
