"""Commentary text in, a draft piece out: shared by ``manage.py ingest`` and the paste form.

:func:`prepare_draft` parses and suggests tags without writing anything; :func:`save_draft`
turns a confirmed draft into a piece. Keeping the two apart is what lets ``--dry-run`` and
the editor's preview show exactly what would be saved.
"""

from __future__ import annotations

from dataclasses import dataclass

from library.catalogue.authors import AuthorSpec, parse_name
from library.catalogue.models import Piece, PieceType, Provenance, Region, Topic, join_body
from library.catalogue.models import Section as BodySection
from library.catalogue.services import (
    PieceContributors,
    PieceTags,
    find_existing_piece,
    save_piece,
)
from library.catalogue.vocabulary import suggest_tags
from library.ingest.suggest import Suggestion
from library.ingest.text import parse_commentary
from library.ingest.types import NotACommentary, ParsedPiece


@dataclass
class Draft:
    """A parsed commentary with its suggested tags and, if any, the piece it duplicates."""

    parsed: ParsedPiece
    authors: list[AuthorSpec]
    topic_suggestions: list[Suggestion]
    region_suggestions: list[Suggestion]
    existing: Piece | None

    @property
    def body(self) -> str:
        """The body in the stored form, headings included (see ``models.split_body``)."""
        return join_body(
            [BodySection(s.heading, tuple(s.paragraphs)) for s in self.parsed.sections]
        )

    def as_json(self) -> dict:
        parsed = self.parsed
        return {
            "file": parsed.source,
            "title": parsed.title,
            "subtitle": parsed.subtitle,
            "authors": parsed.author_names,
            "affiliations": {a.name: a.affiliation for a in parsed.authors if a.affiliation},
            "date": parsed.date.isoformat() if parsed.date else None,
            "series": parsed.series,
            "number": parsed.number,
            "publisher": parsed.publisher,
            "synopsis": parsed.synopsis,
            "body": parsed.body,
            "headings": parsed.headings,
            "topics": [s.slug for s in self.topic_suggestions],
            "regions": [s.slug for s in self.region_suggestions],
            "warnings": parsed.warnings,
        }


def prepare_draft(text: str, *, source: str = "<text>") -> Draft:
    """Parse commentary text and suggest tags; writes nothing. Raises ``NotACommentary``."""
    parsed = parse_commentary(text, source=source)
    try:
        authors = [parse_name(a.name, affiliation=a.affiliation, bio=a.bio) for a in parsed.authors]
    except ValueError as exc:
        raise NotACommentary(source, f"byline: {exc}") from None
    # A series label printed above the title ("Global Health Security") is offered as a topic.
    topics, regions = suggest_tags(
        f"{parsed.title}\n{parsed.label}".strip(), parsed.synopsis, parsed.body
    )
    existing = find_existing_piece(
        source_hash=parsed.source_hash, title=parsed.title, authors=authors
    )
    return Draft(parsed, authors, topics, regions, existing)


def save_draft(draft: Draft, *, provenance: str = Provenance.INGEST, user=None) -> Piece:
    """Create the piece a draft describes, with all its suggested tags accepted."""
    parsed = draft.parsed
    piece = Piece(
        type=PieceType.COMMENTARY,
        title=parsed.title,
        subtitle=parsed.subtitle,
        synopsis=parsed.synopsis,
        body=draft.body,
        series=parsed.series,
        number=parsed.number,
        publisher=parsed.publisher,
        date=parsed.date,
        date_precision=parsed.date_precision,
        provenance=provenance,
        source_file=parsed.source[:500],
        source_hash=parsed.source_hash,
        created_by=user,
    )
    tags = PieceTags(
        topics=Topic.objects.filter(slug__in=[s.slug for s in draft.topic_suggestions]),
        regions=Region.objects.filter(slug__in=[s.slug for s in draft.region_suggestions]),
    )
    return save_piece(piece, PieceContributors(authors=draft.authors), tags)
