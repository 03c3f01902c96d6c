"""Commentary text or files in, a draft piece out, and the draft saved: the one intake pipeline.

``manage.py ingest``, the paste form, the upload page and the demo loader all come through
here. :func:`prepare_draft` (text) and :func:`draft_from_bytes` (a PDF or text file) parse and
suggest without writing anything, which is what lets ``--dry-run`` and the editor's preview
show exactly what would be saved. :func:`save_ingested` writes one: the command and the
upload page both call it, with the piece from :func:`piece_from_draft` or from the reviewed
form. Duplicates are found by :mod:`library.catalogue.duplicates`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from library.catalogue.authors import AuthorSpec, parse_name
from library.catalogue.duplicates import Duplicate, find_duplicate, find_same_work
from library.catalogue.models import Piece, PieceType, Provenance, Region, Topic, join_body
from library.catalogue.models import Section as BodySection
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.catalogue.vocabulary import suggest_tags
from library.ingest.keywords import suggest_keywords
from library.ingest.pdf import (
    MB,
    PdfExtractor,
    PdfLimits,
    PdfProblem,
    file_sha256,
    is_pdf,
    pdf_layout_text,
    read_pdf_file,
)
from library.ingest.suggest import Suggestion
from library.ingest.text import decode_text, parse_commentary, read_text_bytes
from library.ingest.types import NotACommentary, ParsedPiece

__all__ = [
    "Draft",
    "PdfProblem",
    "draft_from_bytes",
    "draft_initial",
    "expand_paths",
    "pdf_limits",
    "piece_from_draft",
    "prepare_draft",
    "read_file",
    "save_draft",
    "save_ingested",
]


@dataclass
class Draft:
    """A parsed commentary with its suggestions and, if any, the piece it duplicates.

    A draft read from a file also carries its keyword suggestions, the file's hash and
    whether it is a PDF (kept as the piece's attachment when saved). ``duplicate`` is
    found by the rules for the draft's door (see ``catalogue.duplicates``). ``warnings``
    are the parser's, plus whatever reading the file adds; any of them holds a file for a
    person to check.
    """

    parsed: ParsedPiece
    authors: list[AuthorSpec]
    topic_suggestions: list[Suggestion]
    region_suggestions: list[Suggestion]
    duplicate: Duplicate | None = None
    keywords: list[str] = field(default_factory=list)
    sha256: str = ""
    is_pdf: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        """The body in the stored form, headings included (see ``models.split_body``)."""
        return join_body(
            [BodySection(s.heading, tuple(s.paragraphs)) for s in self.parsed.sections]
        )

    def as_json(self) -> dict[str, Any]:
        parsed = self.parsed
        record: dict[str, Any] = {
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
            "warnings": self.warnings,
            "keywords": self.keywords,
            "sha256": self.sha256,
        }
        if self.duplicate is not None:
            record |= {
                "duplicate_of": self.duplicate.piece.citation_key,
                "duplicate_url": self.duplicate.piece.get_absolute_url(),
                "reason": self.duplicate.reason,
            }
        return record


# --- reading -----------------------------------------------------------------------------------


def pdf_limits() -> PdfLimits:
    """The limits configured in settings (``MAX_PDF_BYTES`` and friends)."""
    return PdfLimits(
        max_bytes=settings.DOSSIER_MAX_PDF_BYTES,
        max_pages=settings.DOSSIER_MAX_PDF_PAGES,
        timeout=float(settings.DOSSIER_PDF_TIMEOUT_SECONDS),
        memory_bytes=settings.DOSSIER_PDF_MEMORY_MB * MB,
    )


def prepare_draft(text: str, *, source: str = "<text>") -> Draft:
    """Parse pasted commentary text and suggest tags; writes nothing.

    Raises ``NotACommentary``.
    """
    draft = _parse(text, source)
    parsed = draft.parsed
    draft.duplicate = find_same_work(
        source_hash=parsed.source_hash, title=parsed.title, authors=draft.authors
    )
    return draft


def _parse(text: str, source: str) -> Draft:
    parsed = parse_commentary(text, source=source)
    try:
        authors = [parse_name(a.name, affiliation=a.affiliation, bio=a.bio) for a in parsed.authors]
    except ValueError as exc:
        raise NotACommentary(source, f"byline: {exc}") from None
    # A series label printed above the title ("Global Health Security") is offered as a topic.
    topics, regions = suggest_tags(
        f"{parsed.title}\n{parsed.label}".strip(), parsed.synopsis, parsed.body
    )
    return Draft(parsed, authors, topics, regions, warnings=list(parsed.warnings))


def read_file(path: str | Path, *, limits: PdfLimits) -> bytes:
    """A file's bytes for :func:`draft_from_bytes`, refusing an oversized one before reading.

    A file is treated as a PDF when it says so in its first bytes or its name ends in .pdf;
    anything else must be commentary text within ``MAX_INGEST_BYTES``. Text is returned as
    read: :func:`draft_from_bytes` decodes it, once.
    """
    source = str(path)
    with open(path, "rb") as handle:
        head = handle.read(1024)
    if is_pdf(head) or source.lower().endswith(".pdf"):
        return read_pdf_file(path, limits=limits)
    return read_text_bytes(path, max_bytes=settings.DOSSIER_MAX_INGEST_BYTES)


def draft_from_bytes(
    data: bytes, *, source: str, extractor: PdfExtractor, name: str | None = None
) -> Draft:
    """Parse a PDF or text file's bytes into a draft with keywords; writes nothing.

    A PDF is read from its layout (``pdf_layout_text``); what the layout reader had to guess
    comes first in ``warnings``, before the parser's.

    ``name`` (default: ``source``) decides, with the magic bytes, whether it is a PDF: a
    ``.pdf`` name on non-PDF content is refused rather than read as text. Raises
    ``NotACommentary`` (``PdfProblem`` for PDFs) with the reason.
    """
    name = name or source
    pdf = is_pdf(data) or name.lower().endswith(".pdf")
    layout_warnings: list[str] = []
    if pdf:
        read = pdf_layout_text(data, source=source, extractor=extractor)
        text, layout_warnings = read.text, read.warnings
    else:
        limit = settings.DOSSIER_MAX_INGEST_BYTES
        if len(data) > limit:
            raise NotACommentary(
                source, f"the text is {len(data):,} bytes, over the {limit:,} byte limit"
            )
        text = decode_text(data, source=source)
    draft = _parse(text, source)
    draft.warnings = [*layout_warnings, *draft.warnings]
    parsed = draft.parsed
    exclude = [
        *parsed.author_names,
        *(s.name for s in draft.topic_suggestions),
        *(s.name for s in draft.region_suggestions),
        parsed.series,
        parsed.publisher,
    ]
    draft.keywords = suggest_keywords(
        parsed.title, parsed.synopsis, parsed.body, exclude=exclude, names=parsed.author_names
    )
    draft.sha256, draft.is_pdf = file_sha256(data), pdf
    draft.duplicate = find_duplicate(
        sha256=draft.sha256 if pdf else "",
        source_hash=parsed.source_hash,
        title=parsed.title,
        authors=draft.authors,
        date=parsed.date,
    )
    return draft


def expand_paths(
    paths: Iterable[str], *, keep: Callable[[str], bool] | None = None
) -> tuple[list[str], int]:
    """Files named, and files found in folders named (recursively, sorted, symlinks to
    folders not followed). Hidden files and folders, and files in folders whose name
    ``keep`` refuses, are passed over and counted; a file named outright is always kept."""
    files: list[str] = []
    passed_over = 0
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        for root, dirs, names in os.walk(path):
            passed_over += sum(1 for d in dirs if d.startswith("."))
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith(".") or (keep is not None and not keep(name)):
                    passed_over += 1
                else:
                    files.append(os.path.join(root, name))
    return files, passed_over


# --- the editor's form -------------------------------------------------------------------------


def draft_initial(draft: Draft, *, as_ticks: bool = False) -> dict[str, Any]:
    """The draft as the piece form's starting values.

    ``as_ticks`` is the upload page's review form: every suggestion is a tick box, topics and
    regions ticked, machine keywords unticked (they are suggestions until an editor accepts
    them; unticked ones are kept as the piece's ``suggested_keywords``). Without it (the paste
    flow) the suggested topics and regions are typed into the text fields.
    """
    parsed = draft.parsed
    initial: dict[str, Any] = {
        "type": PieceType.COMMENTARY,
        "title": parsed.title,
        "subtitle": parsed.subtitle,
        "authors_text": "\n".join(
            f"{a.name} | {a.affiliation}" if a.affiliation else a.name for a in parsed.authors
        ),
        "date_text": parsed.date.isoformat() if parsed.date else "",
        "publisher": parsed.publisher,
        "series": parsed.series,
        "number": parsed.number,
        "synopsis": parsed.synopsis,
        "body": draft.body,
    }
    if as_ticks:
        return initial | {
            "include": True,
            "accepted_topics": [s.slug for s in draft.topic_suggestions],
            "accepted_regions": [s.slug for s in draft.region_suggestions],
            "accepted_keywords": [],
        }
    return initial | {
        "topics_text": ", ".join(s.name for s in draft.topic_suggestions),
        "regions_text": ", ".join(s.name for s in draft.region_suggestions),
    }


# --- saving ------------------------------------------------------------------------------------


def piece_from_draft(draft: Draft, *, provenance: str = Provenance.INGEST, user=None) -> Piece:
    """The unsaved piece a draft describes, with where it came from recorded."""
    parsed = draft.parsed
    return Piece(
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


def save_ingested(
    piece: Piece,
    contributors: PieceContributors,
    tags: PieceTags,
    *,
    pdf: bytes | None = None,
    sha256: str = "",
    suggested_keywords: Iterable[str] = (),
    accept_keywords: bool = False,
) -> Piece:
    """Save an ingested piece through ``save_piece``, keeping a PDF as its attachment.

    Machine keywords (``suggested_keywords``) are suggestions until accepted: those not
    already among ``tags.keywords`` are stored apart as the piece's ``suggested_keywords``
    (never exported, accepted on the edit page), unless ``accept_keywords`` says to take
    them all as keywords.

    The PDF is stored under a generated name; if saving the piece fails, the stored file is
    removed again.
    """
    suggested = list(suggested_keywords)
    if accept_keywords:
        tags.keywords = list(dict.fromkeys([*tags.keywords, *suggested]))
    piece.suggested_keywords = [k for k in suggested if k not in tags.keywords]
    if pdf is not None:
        piece.attachment.save("attachment.pdf", ContentFile(pdf), save=False)
        piece.attachment_sha256 = sha256
    try:
        with transaction.atomic():
            return save_piece(piece, contributors, tags)
    except BaseException:
        if piece.attachment:
            piece.attachment.delete(save=False)
        raise


def save_draft(
    draft: Draft,
    *,
    data: bytes | None = None,
    provenance: str = Provenance.INGEST,
    user=None,
    accept_keywords: bool = False,
) -> Piece:
    """Create the piece a draft describes (the ``ingest`` command, the demo loader).

    Every suggested topic and region is accepted; machine keywords are kept as the piece's
    ``suggested_keywords`` unless ``accept_keywords`` (``ingest --accept-keywords``) takes
    them all as keywords. A PDF's bytes (``data``) are kept as the attachment.
    """
    tags = PieceTags(
        topics=list(Topic.objects.filter(slug__in=[s.slug for s in draft.topic_suggestions])),
        regions=list(Region.objects.filter(slug__in=[s.slug for s in draft.region_suggestions])),
    )
    return save_ingested(
        piece_from_draft(draft, provenance=provenance, user=user),
        PieceContributors(authors=draft.authors),
        tags,
        pdf=data if draft.is_pdf else None,
        sha256=draft.sha256,
        suggested_keywords=draft.keywords,
        accept_keywords=accept_keywords,
    )
