from django.apps import AppConfig


class WaitlistsConfig(AppConfig):
    """The merchant's subscriber list, CSV export and waitlist import (`/app/subscribers`)."""

    name = "notifyme.waitlists"
    label = "waitlists"
    verbose_name = "Waitlist imports"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from notifyme.delivery import registry
        from notifyme.waitlists import importing

        # An import whose job vanished (Redis flushed, worker killed) is resumed where it stopped.
        registry.register(registry.Handler(
            name="waitlist_import", sweep=importing.import_sweep,
            warm_up=("notifyme.waitlists.jobs",)))
