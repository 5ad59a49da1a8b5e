from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "notifyme.catalog"
    label = "catalog"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from notifyme.catalog import reconcile
        from notifyme.delivery import registry

        # Lost stock webhooks are caught by re-reading waiting variants' stock from Shopify.
        registry.register(registry.Handler(
            name="catalog_reconcile", sweep=reconcile.reconcile_sweep,
            warm_up=("notifyme.catalog.reconcile_jobs",)))
