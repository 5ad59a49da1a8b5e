from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "notifyme.webhooks"
    label = "webhooks"
    verbose_name = "Shopify webhooks"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from notifyme.delivery import registry
        from notifyme.webhooks import lanes, sweep

        registry.register(registry.Handler(
            name="webhooks", sweep=sweep.sweep_webhooks, delayed=lanes.DELAYED,
            warm_up=("notifyme.webhooks.jobs",)))
