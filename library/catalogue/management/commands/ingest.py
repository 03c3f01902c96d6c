"""``manage.py ingest FILE...``: read commentary text files into the catalogue."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from library.catalogue.ingest import prepare_draft, save_draft
from library.ingest.text import read_text_file
from library.ingest.types import NotACommentary


class Command(BaseCommand):
    help = (
        "Parse commentary text files and add each as a piece, with suggested topics and "
        "regions applied. A file that is not a commentary is reported and writes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--dry-run", action="store_true", help="Parse and report; write nothing."
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object per file (JSON Lines)."
        )

    def handle(self, *args, files: list[str], dry_run: bool, json: bool, **options) -> None:
        failures = 0
        for path in files:
            try:
                self._ingest_one(path, dry_run=dry_run, as_json=json)
            except (NotACommentary, OSError) as exc:
                failures += 1
                reason = exc.reason if isinstance(exc, NotACommentary) else _describe_os_error(exc)
                self.stderr.write(self.style.ERROR(f"{path}: not ingested: {reason}"))
                if json:
                    self._emit({"file": path, "status": "error", "error": reason})
        if failures:
            raise CommandError(f"{failures} of {len(files)} file(s) could not be ingested.")

    def _ingest_one(self, path: str, *, dry_run: bool, as_json: bool) -> None:
        text = read_text_file(path, max_bytes=settings.DOSSIER_MAX_INGEST_BYTES)
        draft = prepare_draft(text, source=path)
        record = draft.as_json()
        if draft.existing is not None:
            record |= {"status": "duplicate", "citation_key": draft.existing.citation_key}
            message = (
                f"{path}: already in the catalogue as {draft.existing.citation_key} "
                f"({draft.existing.get_absolute_url()}); nothing added."
            )
        elif dry_run:
            record |= {"status": "dry-run", "citation_key": None}
            message = f"{path}: parsed (dry run; nothing written)."
        else:
            piece = save_draft(draft)
            record |= {"status": "created", "citation_key": piece.citation_key}
            message = f"{path}: created {piece.citation_key} ({piece.get_absolute_url()})."
        if as_json:
            self._emit(record)
            return
        self._describe(record)
        self.stdout.write(self.style.SUCCESS(message))

    def _emit(self, record: dict) -> None:
        self.stdout.write(json.dumps(record, ensure_ascii=False))

    def _describe(self, record: dict) -> None:
        lines = [
            f"Title:     {record['title']}",
            f"Authors:   {', '.join(record['authors']) or '(none)'}",
        ]
        for name, affiliation in record["affiliations"].items():
            lines.append(f"           {name}: {affiliation}")
        if record["series"] or record["number"]:
            lines.append(f"Series:    {record['series']} {record['number']}".rstrip())
        if record["date"]:
            lines.append(f"Date:      {record['date']}")
        synopsis = record["synopsis"]
        lines.append(f"Synopsis:  {synopsis[:200]}{'…' if len(synopsis) > 200 else ''}")
        lines.append(f"Body:      {len(record['body'].split())} words")
        lines.append(f"Headings:  {'; '.join(record['headings']) or '(none)'}")
        lines.append(f"Topics:    {', '.join(record['topics']) or '(none suggested)'}")
        lines.append(f"Regions:   {', '.join(record['regions']) or '(none suggested)'}")
        lines.extend(f"Warning:   {warning}" for warning in record["warnings"])
        self.stdout.write("\n".join(lines))


def _describe_os_error(exc: OSError) -> str:
    return f"cannot read the file ({exc.strerror or exc})"
