from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "notifyme.subscriptions"
    label = "subscriptions"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from notifyme.catalog import hooks as catalog_hooks
        from notifyme.subscriptions import selectors

        # Reconciliation re-reads the stock of the variants shoppers wait for.
        catalog_hooks.on_awaited_variants(selectors.variants_awaited)
