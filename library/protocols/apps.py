"""App config, so the ``protocols`` template tags and templates are found."""

from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "library.protocols"
    verbose_name = "Open protocols"
