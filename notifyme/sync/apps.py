from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "notifyme.sync"
    label = "sync"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from notifyme.delivery import registry
        from notifyme.sync import lanes, retention, sweep

        registry.register(registry.Handler(
            name="sync", sweep=sweep.sweep_outbox, delayed=lanes.DELAYED,
            warm_up=("notifyme.sync.jobs",)))
        # Not a kind of work, a periodic duty: the sweeper prunes old sync history hourly.
        registry.register(registry.Handler(name="retention", sweep=retention.prune_if_due))
