from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "notifyme.sync"
    label = "sync"

    def ready(self) -> None:
        from notifyme.sync import retention

        retention.register()  # the sweeper prunes old sync history once an hour
