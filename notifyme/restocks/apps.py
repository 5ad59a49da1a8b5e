from django.apps import AppConfig


class RestocksConfig(AppConfig):
    name = "notifyme.restocks"
    label = "restocks"
    verbose_name = "Restocks"

    def ready(self) -> None:
        from integrations.klaviyo import hooks as klaviyo_hooks
        from notifyme.catalog import hooks as catalog_hooks
        from notifyme.restocks import jobs, services, sweep

        # Let the shared sweeper find due or stale deliveries (registration is best effort:
        # the sweeper module may not exist yet in a partial checkout).
        jobs.register_delayed()
        sweep.register()
        # A stock rise that counts as a restock starts one, in the stock write's transaction.
        catalog_hooks.on_stock_changed(services.restock_detect)
        catalog_hooks.on_restock_threshold(services.restock_threshold)
        # A reconnected shop's halted fan-outs continue now, not at the next sweep.
        klaviyo_hooks.on_connection_resumed(jobs.restocks_resume)
