"""Run the benchmarks' Django as deployed: ``DEBUG=0``.

``library/settings.py`` defaults to ``DEBUG=1`` for ``runserver``. With it, Django keeps
every statement in ``connection.queries`` and, on SQLite, quotes each statement's
parameters with one more query to log it: work no deployment does, which the search and
save figures before the seventh round of issue 18 included. Set in the environment before
``django.setup()``, so a ``manage.py db_worker`` a benchmark starts runs the same way.
"""

from __future__ import annotations

import os


def as_deployed() -> None:
    """``DEBUG=0`` with the settings it then requires (benchmark-only values, loopback)."""
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")


def django_as_deployed() -> None:
    """:func:`as_deployed`, then Django set up with the project's settings."""
    as_deployed()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "library.settings")
    import django

    django.setup()


def django_serving_pages() -> None:
    """:func:`django_as_deployed` for benchmarks that render pages through the test client.

    Static URLs unhashed: the deployed manifest storage needs ``collectstatic``, which a
    benchmark need not run (whitenoise's warning about the missing folder is silenced).
    """
    import warnings

    os.environ["DJANGO_SETTINGS_MODULE"] = "library.settings"
    warnings.filterwarnings("ignore", message="No directory at")
    django_as_deployed()
    from django.conf import settings

    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": static}
