from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "notifyme.catalog"
    label = "catalog"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from notifyme.catalog import reconcile, sync
        from notifyme.delivery import registry
        from notifyme.shops import hooks as shop_hooks

        # Lost stock webhooks are caught by re-reading waiting variants' stock from Shopify.
        registry.register(registry.Handler(
            name="catalog_reconcile", sweep=reconcile.reconcile_sweep,
            warm_up=("notifyme.catalog.reconcile_jobs",)))
        # A catalog sync whose job vanished (Redis flushed, worker killed) is resumed.
        registry.register(registry.Handler(
            name="catalog_sync", sweep=sync.sync_sweep,
            warm_up=("notifyme.catalog.sync_jobs",)))
        # Installed (tokens granted): the initial sync; uninstalled: a running one stops.
        shop_hooks.on_installed(sync.catalog_sync_on_install)
        shop_hooks.on_uninstalled(sync.catalog_sync_stop)
