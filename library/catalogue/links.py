"""Page addresses of catalogue objects (pieces, authors, topics, regions), reversed once.

A browse page links each of its twenty pieces twice (title and COinS), with their authors
and tags: ~215 ``reverse()`` calls, about a fifth of the page's time. An address depends
only on the URL configuration in use, the script prefix and the slug, so it is kept per
process under exactly those, and an override of either gives its own entries.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

#: Addresses kept: a page's links, and the vocabulary's few hundred, many times over.
KEPT = 10_000


def object_url(name: str, slug: str) -> str:
    """``reverse(name, args=[slug])``, from the process's memo when it was asked before."""
    return _reverse(get_urlconf(), settings.ROOT_URLCONF, get_script_prefix(), name, slug)


@lru_cache(maxsize=KEPT)
def _reverse(urlconf: str | None, root: str, prefix: str, name: str, slug: str) -> str:
    # ``reverse`` reads the same urlconf and prefix itself; they are arguments only to key
    # the memo (``root`` for settings overrides, which leave ``get_urlconf()`` None).
    return reverse(name, args=[slug])
