from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The top layer: commands and views that call several apps (the demo seed, cross-app routing)."""

    name = "config"
    label = "project"
