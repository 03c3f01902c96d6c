"""Turning written names into Author rows.

Names are split with bibtexparser's implementation of BibTeX's own rules (``First von Last``,
``von Last, First``, ``von Last, Jr, First``), so what an editor types and what a ``.bib``
file holds mean the same thing. A name in braces, or one that reads like an institution,
is an organisation and is never split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bibtexparser.middlewares.names import parse_single_name_into_parts
from django.db.models import Value
from django.db.models.functions import Lower

from library.catalogue.models import Author, AuthorKind

_ORGANISATION_WORDS = re.compile(
    r"\b(Agency|Association|Board|Bureau|Center|Centre|Command|Commission|Committee|Council|"
    r"Department|Foundation|Forum|Group|Institute|Institution|Ministry|Network|Office|"
    r"Organisation|Organization|Programme|Program|School|Secretariat|Service|Society|"
    r"Union|University|Nations|Crisis|Project|Initiative|Watch|International)\b"
)


@dataclass
class AuthorSpec:
    """An author as written down, before it is matched to a row."""

    family: str
    given: str = ""
    particle: str = ""
    suffix: str = ""
    kind: str = AuthorKind.PERSON
    affiliation: str = ""
    bio: str = ""

    @property
    def display_name(self) -> str:
        return Author(
            kind=self.kind,
            family=self.family,
            given=self.given,
            particle=self.particle,
            suffix=self.suffix,
        ).display_name


def looks_like_organisation(name: str) -> bool:
    return bool(_ORGANISATION_WORDS.search(name))


def parse_name(text: str, *, affiliation: str = "", bio: str = "") -> AuthorSpec:
    """Split one written name into parts; ``{…}`` or an institution-like name is an organisation."""
    name = " ".join(text.split())
    if not name:
        raise ValueError("an author name is empty")
    if name.startswith("{") and name.endswith("}"):
        inner = name[1:-1].strip()
        if not inner:
            raise ValueError("an author name is empty")
        return AuthorSpec(
            family=inner, kind=AuthorKind.ORGANISATION, affiliation=affiliation, bio=bio
        )
    if looks_like_organisation(name) and "," not in name:
        return AuthorSpec(
            family=name, kind=AuthorKind.ORGANISATION, affiliation=affiliation, bio=bio
        )
    if name.count("{") != name.count("}"):
        raise ValueError(f"unbalanced braces in the author name {name!r}")
    parts = parse_single_name_into_parts(name, strict=False)
    family = " ".join(parts.last)
    if not family:
        raise ValueError(f"no family name in {name!r}")
    return AuthorSpec(
        family=family,
        given=" ".join(parts.first),
        particle=" ".join(parts.von),
        suffix=" ".join(parts.jr),
        affiliation=affiliation,
        bio=bio,
    )


def format_name_for_editing(author: Author) -> str:
    """The inverse of :func:`parse_name`, in BibTeX's unambiguous ``von Last, Jr, First`` form."""
    if author.is_organisation:
        return "{" + author.family + "}"
    last = f"{author.particle} {author.family}".strip()
    if author.suffix:
        return f"{last}, {author.suffix}, {author.given}"
    return f"{last}, {author.given}" if author.given else last


def find_or_create_author(spec: AuthorSpec) -> Author:
    """The existing author with the same name (case-insensitive), or a new one.

    An affiliation or bio is filled in when the author has none yet, never overwritten:
    an old commentary's bio should not replace a newer one typed by an editor.
    """
    # Both sides lowered by the database: SQLite's LOWER folds ASCII only, so comparing
    # it with Python's str.lower() never matched a name with a non-ASCII capital
    # ("Ó Súilleabháin"), and every save made that author again.
    match = (
        Author.objects.annotate(f=Lower("family"), g=Lower("given"), p=Lower("particle"))
        .filter(
            kind=spec.kind,
            f=Lower(Value(spec.family)),
            g=Lower(Value(spec.given)),
            p=Lower(Value(spec.particle)),
        )
        .order_by("pk")
        .first()
    )
    if match is None:
        return Author.objects.create(
            kind=spec.kind,
            family=spec.family,
            given=spec.given,
            particle=spec.particle,
            suffix=spec.suffix,
            affiliation=spec.affiliation[:500],
            bio=spec.bio,
        )
    changed = []
    if spec.affiliation and not match.affiliation:
        match.affiliation = spec.affiliation[:500]
        changed.append("affiliation")
    if spec.bio and not match.bio:
        match.bio = spec.bio
        changed.append("bio")
    if changed:
        match.save(update_fields=changed)
    return match
