from django.apps import AppConfig


class RestocksConfig(AppConfig):
    name = "notifyme.restocks"
    label = "restocks"
    verbose_name = "Restocks"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from notifyme.delivery import registry
        from notifyme.restocks import nudging, sweep

        registry.register(registry.Handler(
            name="restocks", sweep=sweep.sweep_restocks, delayed=nudging.DELAYED,
            warm_up=("notifyme.restocks.jobs",)))
