from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "API access and audit"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the schema's authentication extensions)
