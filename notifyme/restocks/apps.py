from django.apps import AppConfig


class RestocksConfig(AppConfig):
    name = "notifyme.restocks"
    label = "restocks"
    verbose_name = "Restocks"

    def ready(self) -> None:
        # Let the shared sweeper find due or stale deliveries (registration is best effort:
        # the sweeper module may not exist yet in a partial checkout).
        from notifyme.restocks import jobs, sweep

        jobs.register_delayed()
        sweep.register()
