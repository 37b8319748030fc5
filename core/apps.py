from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("API access and audit")

    def ready(self) -> None:
        from . import history, schema  # noqa: F401  (schema registers the authentication extensions)

        history.install()
