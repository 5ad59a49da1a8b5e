from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "notifyme.sync"
    label = "sync"

    def ready(self) -> None:
        from integrations.klaviyo import hooks as klaviyo_hooks
        from notifyme.subscriptions import hooks as subscription_hooks
        from notifyme.sync import retention, services

        retention.register()  # the sweeper prunes old sync history once an hour
        # Each subscription write records its outbox row in the same transaction.
        subscription_hooks.on_lifecycle(services.outbox_for_subscription)
        # A reconnected shop's pending subscribers sync now, not at the next sweep.
        klaviyo_hooks.on_connection_resumed(services.sync_nudge)
