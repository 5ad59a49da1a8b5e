from django.apps import AppConfig


class RestocksConfig(AppConfig):
    name = "notifyme.restocks"
    label = "restocks"
    verbose_name = "Restocks"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from integrations.klaviyo import hooks as klaviyo_hooks
        from notifyme.catalog import hooks as catalog_hooks
        from notifyme.delivery import registry
        from notifyme.restocks import jobs, nudging, services, sweep
        from notifyme.shops import hooks as shop_hooks

        registry.register(registry.Handler(
            name="restocks", sweep=sweep.sweep_restocks, delayed=nudging.DELAYED,
            warm_up=("notifyme.restocks.jobs",)))
        # A stock rise that counts as a restock starts one, in the stock write's transaction.
        catalog_hooks.on_stock_changed(services.restock_detect)
        catalog_hooks.on_restock_threshold(services.restock_threshold)
        # A reconnected shop's halted fan-outs continue now, not at the next sweep.
        klaviyo_hooks.on_connection_resumed(jobs.restocks_resume)
        # An uninstall cancels the shop's unfinished restocks (the fan-out refuses its work).
        shop_hooks.on_uninstalled(services.restocks_stop_for_uninstall)
