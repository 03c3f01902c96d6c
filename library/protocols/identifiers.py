"""Recognising a piece by an identifier typed into the search box: DOI, URL or citation key.

People paste what they have: ``10.1080/…``, ``doi:10.…``, ``https://doi.org/10.…``, the
publisher's URL, a Dossier piece link or ``basit2016mosul``. Ranking words cannot find
those reliably (a DOI is not text), so the search page asks this module first and puts
the exact match at the top of the results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.urls import Resolver404, resolve

from library.catalogue.models import CITATION_KEY_PATTERN, Piece

_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_KEY = re.compile(CITATION_KEY_PATTERN)
MAX_LENGTH = 1000


@dataclass(frozen=True)
class ExactMatch:
    """The piece an identifier names and which kind of identifier it was."""

    piece: Piece
    kind: str  # "DOI", "URL" or "citation key"


def _url_variants(url: str) -> list[str]:
    """The URL as typed, with and without a trailing slash, over http and https."""
    base = url.rstrip("/")
    rest = base.split("://", 1)[1]
    return [f"{scheme}://{rest}{slash}" for scheme in ("https", "http") for slash in ("", "/")]


def _own_piece_key(url: str) -> str:
    """The citation key when ``url`` is a Dossier piece page (any host)."""
    try:
        match = resolve(urlsplit(url).path or "/")
    except Resolver404:
        return ""
    return match.kwargs.get("key", "") if match.view_name == "catalogue:piece" else ""


def find_exact(text: str) -> ExactMatch | None:
    """The piece ``text`` identifies exactly, or None (the query is then ordinary words)."""
    text = text.strip()
    if not text or len(text) > MAX_LENGTH or "\x00" in text:
        return None
    pieces = Piece.objects.with_related()
    if doi := _DOI.match(text):
        piece = pieces.filter(doi__iexact=unquote(doi.group(1))).first()
        return ExactMatch(piece, "DOI") if piece else None
    if text.lower().startswith(("http://", "https://")) and " " not in text:
        piece = pieces.filter(url__in=_url_variants(text)).first()
        if piece is None and (key := _own_piece_key(text)):
            piece = pieces.filter(citation_key=key).first()
        return ExactMatch(piece, "URL") if piece else None
    if _KEY.match(text):
        piece = pieces.filter(citation_key__iexact=text).first()
        return ExactMatch(piece, "citation key") if piece else None
    return None
