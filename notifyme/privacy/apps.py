from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "notifyme.privacy"
    label = "privacy"
    verbose_name = "Privacy requests"

    def ready(self) -> None:
        # Django idiom: modules that use models are imported once the app registry is ready.
        from integrations.klaviyo import hooks as klaviyo_hooks
        from notifyme.delivery import registry
        from notifyme.privacy import erasure, sweep
        from notifyme.shops import hooks as shop_hooks

        registry.register(registry.Handler(
            name="privacy", sweep=sweep.privacy_sweep, delayed=erasure.DELAYED,
            warm_up=("notifyme.privacy.jobs",)))
        # Held Klaviyo erasures go as soon as the shop is back (reinstall, reconnect).
        shop_hooks.on_reinstalled(erasure.erasures_resume_for_shop)
        klaviyo_hooks.on_connection_resumed(erasure.erasures_resume)
