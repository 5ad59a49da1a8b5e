from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    """The pipeline itself registers nothing: each domain registers its handlers in its own
    `ready()` (see `notifyme.delivery.registry`)."""

    name = "notifyme.delivery"
    label = "delivery"
    verbose_name = "Delivery pipeline"
