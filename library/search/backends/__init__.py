"""Pick the search engine named by ``settings.SEARCH_BACKEND``, the way Django picks a cache."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from library.search import state
from library.search.backends.base import SearchBackend


def backend_name() -> str:
    return getattr(settings, "SEARCH_BACKEND", "database")


def get_backend(name: str | None = None) -> SearchBackend:
    """The configured backend (one instance per engine and index location)."""
    name = name or backend_name()
    location = str(getattr(settings, "WHOOSH_INDEX_DIR", "")) if name == "whoosh" else ""
    key = (name, location)
    if key not in state.backends:
        state.backends[key] = _create(name, location)
    return state.backends[key]


def _create(name: str, location: str) -> SearchBackend:
    if name == "database":
        from library.search.backends.database import database_backend

        return database_backend()
    if name == "whoosh":
        from library.search.backends.whoosh import WhooshBackend

        return WhooshBackend(location)
    raise ImproperlyConfigured(f"SEARCH_BACKEND={name!r} is not one of: database, whoosh.")
