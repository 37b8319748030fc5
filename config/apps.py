from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ProjectConfig(AppConfig):
    """The top layer: commands and views that call several apps (the demo seed, cross-app routing)."""

    name = "config"
    label = "project"

    def ready(self) -> None:
        from . import metrics  # noqa: F401 - registers the outbox gauge and the job counters (Celery signals)


class OfficeAdminConfig(AdminConfig):
    """Django's admin with our site (the program's name in the header, the managers' dashboard)."""

    default_site = "config.office.OfficeAdminSite"
