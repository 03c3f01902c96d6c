"""Files in, drafts out: commentary PDFs and text files, for ``ingest`` and the upload page.

Builds on :mod:`library.catalogue.ingest` (parse, suggest topics and regions, spot the same
text) and adds what a file brings: PDF extraction under limits, keyword suggestions, the
file's hash, a fuzzy duplicate check, and the PDF kept as the piece's attachment. The
command and the web upload both call :func:`draft_from_bytes` and :func:`save_file_draft`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from rapidfuzz import fuzz

from library.catalogue.ingest import Draft, prepare_draft
from library.catalogue.models import Piece, PieceType, Provenance, Region, Role, Topic
from library.catalogue.services import PieceContributors, PieceTags, save_piece
from library.imports.duplicates import TITLE_THRESHOLD, normalise_title
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
from library.ingest.text import decode_text, read_text_file
from library.ingest.types import NotACommentary


def pdf_limits() -> PdfLimits:
    """The limits configured in settings (``MAX_PDF_BYTES`` and friends)."""
    return PdfLimits(
        max_bytes=settings.DOSSIER_MAX_PDF_BYTES,
        max_pages=settings.DOSSIER_MAX_PDF_PAGES,
        timeout=float(settings.DOSSIER_PDF_TIMEOUT_SECONDS),
        memory_bytes=settings.DOSSIER_PDF_MEMORY_MB * MB,
    )


@dataclass
class FileDraft:
    """A file read into a draft, with keyword suggestions and the piece it may duplicate."""

    draft: Draft
    keywords: list[str]
    sha256: str
    is_pdf: bool
    duplicate: Piece | None = None
    duplicate_reason: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def parsed(self):
        return self.draft.parsed

    def as_json(self) -> dict:
        record = self.draft.as_json() | {"keywords": self.keywords, "sha256": self.sha256}
        if self.duplicate is not None:
            record |= {
                "duplicate_of": self.duplicate.citation_key,
                "duplicate_url": self.duplicate.get_absolute_url(),
                "reason": self.duplicate_reason,
            }
        return record


def read_file(path: str | Path, *, limits: PdfLimits) -> bytes:
    """A file's bytes for :func:`draft_from_bytes`, refusing an oversized one before reading.

    A file is treated as a PDF when it says so in its first bytes or its name ends in .pdf;
    anything else must be commentary text within ``MAX_INGEST_BYTES``.
    """
    source = str(path)
    with open(path, "rb") as handle:
        head = handle.read(1024)
    if is_pdf(head) or source.lower().endswith(".pdf"):
        return read_pdf_file(path, limits=limits)
    text = read_text_file(path, max_bytes=settings.DOSSIER_MAX_INGEST_BYTES)
    return text.encode("utf-8")


def draft_from_bytes(
    data: bytes, *, source: str, extractor: PdfExtractor, name: str | None = None
) -> FileDraft:
    """Parse a PDF or text file's bytes into a draft; writes nothing.

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
    draft = prepare_draft(text, source=source)
    parsed = draft.parsed
    exclude = [
        *parsed.author_names,
        *(s.name for s in draft.topic_suggestions),
        *(s.name for s in draft.region_suggestions),
        parsed.series,
        parsed.publisher,
    ]
    keywords = suggest_keywords(
        parsed.title, parsed.synopsis, parsed.body, exclude=exclude, names=parsed.author_names
    )
    file_draft = FileDraft(
        draft, keywords, file_sha256(data), pdf, warnings=[*layout_warnings, *parsed.warnings]
    )
    file_draft.duplicate, file_draft.duplicate_reason = find_duplicate(file_draft)
    return file_draft


def find_duplicate(file_draft: FileDraft) -> tuple[Piece | None, str]:
    """The piece this file already is, and why: same file, same text, same or similar title."""
    if file_draft.is_pdf:
        same_file = Piece.objects.filter(attachment_sha256=file_draft.sha256).order_by("pk").first()
        if same_file is not None:
            return same_file, "the same file was ingested before"
    draft, parsed = file_draft.draft, file_draft.parsed
    if draft.existing is not None:
        if parsed.source_hash and draft.existing.source_hash == parsed.source_hash:
            return draft.existing, "the same text was ingested before"
        return draft.existing, "a piece with the same title and first author exists"
    return _similar_title(parsed.title, draft.authors, parsed.date)


def _similar_title(title: str, authors: Sequence, date) -> tuple[Piece | None, str]:
    if not authors or not title:
        return None, ""
    wanted = normalise_title(title)
    numbers = _numbers(wanted)
    candidates = Piece.objects.filter(
        authorships__role=Role.AUTHOR,
        authorships__position=0,
        authorships__author__family__iexact=authors[0].family,
    ).only("pk", "title", "date", "citation_key")
    best: tuple[float, Piece | None] = (0.0, None)
    for piece in candidates:
        if date and piece.date and piece.date.year != date.year:
            continue
        other = normalise_title(piece.title)
        if _numbers(other) != numbers:  # "Part 1" and "Part 2" are different works
            continue
        score = fuzz.ratio(wanted, other)
        if score >= TITLE_THRESHOLD and score > best[0]:
            best = (score, piece)
    score, piece = best
    if piece is None:
        return None, ""
    return piece, f"a piece with a similar title ({score:.0f}% alike) and first author exists"


def _numbers(title: str) -> list[str]:
    return re.findall(r"\d+", title)


def save_file_draft(
    file_draft: FileDraft,
    *,
    data: bytes | None = None,
    topics: Iterable[Topic] | None = None,
    regions: Iterable[Region] | None = None,
    keywords: Iterable[str] | None = None,
    accept_keywords: bool = False,
    user=None,
) -> Piece:
    """Create the piece; ``None`` for topics or regions accepts every suggestion of that kind.

    Machine keywords are suggestions until accepted: with ``keywords=None`` they are stored
    apart (``suggested_keywords``) unless ``accept_keywords`` says to take them all.

    A PDF's bytes (``data``) are kept as the attachment under a generated name; if saving
    the piece fails, the stored file is removed again.
    """
    draft, parsed = file_draft.draft, file_draft.parsed
    if topics is None:
        topics = Topic.objects.filter(slug__in=[s.slug for s in draft.topic_suggestions])
    if regions is None:
        regions = Region.objects.filter(slug__in=[s.slug for s in draft.region_suggestions])
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
        provenance=Provenance.INGEST,
        source_file=parsed.source[:500],
        source_hash=parsed.source_hash,
        created_by=user,
    )
    if keywords is None:
        keywords = file_draft.keywords if accept_keywords else []
    keywords = list(keywords)
    piece.suggested_keywords = [k for k in file_draft.keywords if k not in keywords]
    if file_draft.is_pdf and data is not None:
        piece.attachment.save("attachment.pdf", ContentFile(data), save=False)
        piece.attachment_sha256 = file_draft.sha256
    tags = PieceTags(
        topics=list(topics),
        regions=list(regions),
        keywords=keywords,
    )
    try:
        with transaction.atomic():
            return save_piece(piece, PieceContributors(authors=draft.authors), tags)
    except BaseException:
        if piece.attachment:
            piece.attachment.delete(save=False)
        raise


def expand_paths(paths: Iterable[str]) -> tuple[list[str], int]:
    """Files named, and files found in folders named (recursively, sorted, symlinks to
    folders not followed); hidden files and folders are skipped and counted."""
    files: list[str] = []
    hidden = 0
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        for root, dirs, names in os.walk(path):
            hidden += sum(1 for d in dirs if d.startswith("."))
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith("."):
                    hidden += 1
                else:
                    files.append(os.path.join(root, name))
    return files, hidden


__all__ = [
    "FileDraft",
    "PdfProblem",
    "draft_from_bytes",
    "expand_paths",
    "find_duplicate",
    "pdf_limits",
    "read_file",
    "save_file_draft",
]
