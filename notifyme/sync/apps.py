from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "notifyme.sync"
    label = "sync"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from integrations.klaviyo import hooks as klaviyo_hooks
        from notifyme.delivery import registry
        from notifyme.shops import hooks as shop_hooks
        from notifyme.subscriptions import hooks as subscription_hooks
        from notifyme.sync import flow_checks, lanes, retention, services, sweep

        registry.register(registry.Handler(
            name="sync", sweep=sweep.sweep_outbox, delayed=lanes.DELAYED,
            warm_up=("notifyme.sync.jobs",)))
        # Not a kind of work, a periodic duty: the sweeper prunes old sync history hourly.
        registry.register(registry.Handler(name="retention", sweep=retention.prune_if_due))
        # The Klaviyo flow state: after each connect, and at most hourly per shop.
        registry.register(registry.Handler(name="flow_checks", sweep=flow_checks.sweep_flow_checks,
                                           warm_up=("notifyme.sync.flow_checks",)))
        klaviyo_hooks.on_connection_resumed(flow_checks.flow_check_nudge)
        # Each subscription write records its outbox row in the same transaction.
        subscription_hooks.on_lifecycle(services.outbox_for_subscription)
        # A reconnected shop's pending subscribers sync now, not at the next sweep.
        klaviyo_hooks.on_connection_resumed(services.sync_nudge)
        # Uninstalled: the engine holds the shop's rows; reinstalled: they go again.
        shop_hooks.on_uninstalled(services.outbox_hold)
        shop_hooks.on_reinstalled(services.outbox_resume)
