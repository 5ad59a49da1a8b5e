from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "notifyme.sync"
    label = "sync"
