from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Citation import as its own app, so it owns its ``import_citations`` command."""

    name = "library.imports"
    label = "imports"
    verbose_name = "Citation import"
