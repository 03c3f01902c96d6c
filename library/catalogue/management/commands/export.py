"""``manage.py export --format bibtex [--topic …] [-o FILE]``: citations to a file or stdout."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from library.catalogue.browse import Filters
from library.catalogue.exports import (
    DEFAULT_STYLE,
    FORMAT_LABELS,
    ExportError,
    build_export,
    export_basename,
    export_queryset,
    search_piece_ids,
    validate_filters,
)
from library.citations.style_index import can_format
from library.citations.styles import STYLES


def _style(value: str) -> str:
    """argparse type: any bundled CSL style id with a bibliography."""
    if not can_format(value):
        raise argparse.ArgumentTypeError(
            f"{value[:80]!r} is not a bundled CSL style with a bibliography; "
            f"e.g. {', '.join(STYLES)} (list them with GET /api/styles/?q=NAME)"
        )
    return value


class Command(BaseCommand):
    help = (
        "Export pieces as BibTeX, BibLaTeX, RIS, CSL-JSON or a formatted bibliography. "
        "Filters combine; without any, the whole catalogue is exported. Streams, so "
        "memory stays flat however many pieces there are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", "-f", required=True, choices=list(FORMAT_LABELS))
        parser.add_argument("--topic", default="", help="topic slug, e.g. terrorism")
        parser.add_argument("--region", default="", help="region slug, e.g. iraq")
        parser.add_argument("--author", default="", help="author slug, e.g. abdul-basit")
        parser.add_argument("--year", default="", help="publication year, e.g. 2016")
        parser.add_argument("--type", default="", help="piece type, e.g. commentary")
        parser.add_argument(
            "--query", "-q", default="", help="a search query, as typed in the search box"
        )
        parser.add_argument(
            "--style",
            default=DEFAULT_STYLE,
            type=_style,
            help=f"any bundled CSL style id (default {DEFAULT_STYLE}; also {', '.join(STYLES)})",
        )
        parser.add_argument(
            "--output", "-o", default="-", help="file to write (default: standard output)"
        )

    def handle(self, *args, **options) -> None:
        filters = _filters(options)
        try:
            validate_filters(filters)
            pieces = export_queryset(filters, piece_ids=search_piece_ids(options["query"]))
            count = pieces.count()
            export = build_export(
                pieces,
                options["format"],
                basename=export_basename(filters, options["query"]),
                style=options["style"],
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        target = options["output"]
        if target == "-":
            for chunk in export.chunks:
                self.stdout.write(chunk, ending="")
            self.stdout.flush()
        else:
            _write_atomically(Path(target), export.chunks)
        where = "standard output" if target == "-" else target
        label = FORMAT_LABELS[options["format"]]
        sys.stderr.write(
            f"Exported {count} piece{'s' if count != 1 else ''} as {label} to {where}.\n"
        )


def _filters(options: dict) -> Filters:
    query = QueryDict(mutable=True)
    for name in ("topic", "region", "author", "year", "type"):
        if options[name]:
            query[name] = options[name]
    filters = Filters.from_query(query)
    if options["year"] and filters.year is None:
        raise CommandError(f"--year {options['year']!r} is not a year; write e.g. 2016")
    if options["type"] and not filters.type:
        raise CommandError(f"--type {options['type']!r} is not a piece type")
    return filters


def _write_atomically(path: Path, chunks) -> None:
    """Write to a temporary file beside ``path`` and rename, so a failure leaves no half file."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
