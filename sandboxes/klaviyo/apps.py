"""Django app for the Klaviyo stand-in: only so `manage.py klaviyo_sandbox` exists in development
(settings add it when the dev tools are on). The stand-in itself is plain WSGI without Django."""

from django.apps import AppConfig


class KlaviyoSandboxConfig(AppConfig):
    name = "sandboxes.klaviyo"
    label = "klaviyo_sandbox"  # "klaviyo" is the production integration's label
    verbose_name = "Klaviyo sandbox (development)"
