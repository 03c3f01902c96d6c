"""``manage.py ingest FILE_OR_FOLDER...``: commentary PDFs and text files into the catalogue.

Folders are searched recursively. Every file seen ends in exactly one of four outcomes,
counted in the closing table (or the ``--json`` object): created, duplicate (with the piece it
duplicates), needs attention (a person must act: scanned, encrypted, or the parser had to
guess) or failed (the file is broken, too big, not a commentary). A bad file writes nothing
and the batch goes on; the command exits non-zero if any file was not ingested.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError

from library.catalogue.concurrency import DuplicateWork
from library.catalogue.drafts import (
    draft_from_bytes,
    expand_paths,
    pdf_limits,
    read_file,
    save_draft,
)
from library.catalogue.statistics import refresh_planner_statistics
from library.ingest.pdf import PdfExtractor, PdfProblem, file_name_problem
from library.ingest.types import NotACommentary
from library.progress import Bar, add_progress_argument
from library.storage import failure_reason, is_storage_failure

CREATED, DUPLICATE, ATTENTION, FAILED = "created", "duplicate", "needs-attention", "failed"


@dataclass
class Outcome:
    file: str
    status: str
    reason: str = ""
    record: dict = field(default_factory=dict)


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def summary(self, *, dry_run: bool, hidden: int) -> dict:
        return {
            "files_seen": len(self.outcomes),
            "created": self.count(CREATED),
            "duplicates": self.count(DUPLICATE),
            "needs_attention": self.count(ATTENTION),
            "failed": self.count(FAILED),
            "dry_run": dry_run,
            "hidden_files_skipped": hidden,
        }


class Command(BaseCommand):
    _accept_keywords = False
    help = (
        "Parse commentary PDFs and text files (folders are searched recursively) and add each "
        "as a piece with its suggested topics and regions; suggested keywords wait for an "
        "editor's acceptance unless --accept-keywords. Duplicates and bad files are reported "
        "and write nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="FILE_OR_FOLDER")
        parser.add_argument(
            "--dry-run", action="store_true", help="Parse and report; write nothing."
        )
        parser.add_argument(
            "--accept-keywords",
            action="store_true",
            help="Save the machine-suggested keywords as the piece's keywords; without this "
            "they are kept as suggestions for an editor to accept on the edit page.",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print one JSON object: the counts and a record for every file.",
        )
        add_progress_argument(parser)

    def handle(self, *args, paths: list[str], dry_run: bool, json: bool, **options) -> None:
        self._accept_keywords = options["accept_keywords"]
        files, hidden = expand_paths(paths)
        describe = not json and (options["verbosity"] >= 2 or len(files) <= 3)
        tally = Tally()
        seen: dict[str, str] = {}
        started = time.monotonic()
        bar = Bar(self.stderr, total=len(files), unit="files", shown=options["progress"])
        self._bar = bar
        with bar, PdfExtractor(pdf_limits()) as extractor:
            for index, path in enumerate(files, start=1):
                bar.describe(_shown(os.path.basename(path))[:40])
                outcome = self._ingest_one(path, extractor, dry_run=dry_run, seen=seen)
                tally.outcomes.append(outcome)
                self._report(outcome, describe=describe)
                bar.update(index)
        if not dry_run:
            refresh_planner_statistics()
        summary = tally.summary(dry_run=dry_run, hidden=hidden)
        summary["seconds"] = round(time.monotonic() - started, 2)
        if json:
            records = [outcome.record for outcome in tally.outcomes]
            self.stdout.write(_json_dumps(summary | {"files": records}))
        else:
            self._table(tally, summary)
        not_ingested = summary["needs_attention"] + summary["failed"]
        if not_ingested:
            raise CommandError(f"{not_ingested} of {len(files)} file(s) could not be ingested.")

    # --- one file --------------------------------------------------------------------------

    def _ingest_one(
        self, path: str, extractor: PdfExtractor, *, dry_run: bool, seen: dict[str, str]
    ) -> Outcome:
        name_problem = file_name_problem(os.path.basename(path))
        if name_problem:
            return _refused(path, FAILED, name_problem)
        try:
            data = read_file(path, limits=extractor.limits)
            draft = draft_from_bytes(data, source=path, extractor=extractor)
        except PdfProblem as exc:
            return _refused(path, ATTENTION if exc.attention else FAILED, exc.reason)
        except NotACommentary as exc:
            return _refused(path, FAILED, exc.reason)
        except OSError as exc:
            return _refused(path, FAILED, f"cannot read the file ({exc.strerror or exc})")
        record = draft.as_json()
        if draft.duplicate is not None:
            piece = draft.duplicate.piece
            reason = (
                f"already in the catalogue as {piece.citation_key} "
                f"({piece.get_absolute_url()}): {draft.duplicate.reason}"
            )
            return Outcome(path, DUPLICATE, reason, record | {"status": DUPLICATE})
        earlier = seen.get(draft.sha256) or seen.get(draft.parsed.source_hash)
        if earlier:
            reason = f"the same as {earlier}, earlier in this run"
            return Outcome(
                path, DUPLICATE, reason, record | {"status": DUPLICATE, "reason": reason}
            )
        if draft.warnings:
            reason = "the parser had to guess: " + " ".join(draft.warnings)
            reason += " Add it through the upload page to check it."
            return Outcome(
                path, ATTENTION, reason, record | {"status": ATTENTION, "reason": reason}
            )
        seen[draft.sha256] = seen[draft.parsed.source_hash] = path
        if dry_run:
            return Outcome(
                path, CREATED, "parsed (dry run; nothing written)", record | {"status": "dry-run"}
            )
        try:
            piece = save_draft(draft, data=data, accept_keywords=self._accept_keywords)
        except DuplicateWork as exc:  # another run saved the same work a moment ago
            existing = exc.existing
            reason = (
                f"already in the catalogue as {existing.citation_key} "
                f"({existing.get_absolute_url()}): {exc.reason}"
            )
            return Outcome(path, DUPLICATE, reason, record | {"status": DUPLICATE})
        except (OSError, OperationalError) as exc:
            if not is_storage_failure(exc) and not isinstance(exc, OSError):
                raise
            # Disk full or I/O error: nothing of this file was kept; go on with the next.
            seen.pop(draft.sha256, None)
            seen.pop(draft.parsed.source_hash, None)
            return _refused(path, FAILED, f"not saved: {failure_reason(exc)}")
        message = f"created {piece.citation_key} ({piece.get_absolute_url()})"
        return Outcome(
            path,
            CREATED,
            message,
            record | {"status": CREATED, "citation_key": piece.citation_key},
        )

    # --- output ------------------------------------------------------------------------------

    def _report(self, outcome: Outcome, *, describe: bool) -> None:
        if outcome.status in (ATTENTION, FAILED):
            message = f"{_shown(outcome.file)}: not ingested: {outcome.reason}"
            self._bar.note(self.style.ERROR(message))
            return
        if not describe:
            return
        self._describe(outcome.record)
        style = self.style.SUCCESS if outcome.status == CREATED else self.style.WARNING
        self.stdout.write(style(f"{_shown(outcome.file)}: {outcome.reason}."))

    def _table(self, tally: Tally, summary: dict) -> None:
        rows = [
            ("Created" if not summary["dry_run"] else "Would create", summary["created"]),
            ("Duplicates", summary["duplicates"]),
            ("Needs attention", summary["needs_attention"]),
            ("Failed", summary["failed"]),
        ]
        lines = ["", f"{'Outcome':<16} {'Files':>6}", f"{'-' * 16} {'-' * 6}"]
        lines += [f"{label:<16} {count:>6}" for label, count in rows]
        lines += [f"{'-' * 16} {'-' * 6}", f"{'Files seen':<16} {summary['files_seen']:>6}"]
        if summary["hidden_files_skipped"]:
            lines.append(f"({summary['hidden_files_skipped']} hidden files or folders skipped)")
        for status, title in ((DUPLICATE, "Duplicates"), (ATTENTION, "Needs attention")):
            listed = [o for o in tally.outcomes if o.status == status]
            if listed:
                lines += ["", f"{title}:"] + [f"  {_shown(o.file)}: {o.reason}" for o in listed]
        failed = [o for o in tally.outcomes if o.status == FAILED]
        if failed:
            lines += ["", "Failed:"] + [f"  {_shown(o.file)}: {o.reason}" for o in failed]
        lines.append(f"\n{summary['seconds']:.2f} s")
        self.stdout.write("\n".join(lines))

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
        state = "" if self._accept_keywords else " (suggested; accept them on the edit page)"
        keywords = ", ".join(record["keywords"])
        lines.append(f"Keywords:  {keywords + state if keywords else '(none suggested)'}")
        lines.extend(f"Warning:   {warning}" for warning in record["warnings"])
        self.stdout.write("\n".join(lines))


def _shown(path: str) -> str:
    """A path safe to print: control characters in a file name must not reach the terminal."""
    return "".join(
        c if c.isprintable() else (f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
        for c in path
    )


def _refused(path: str, status: str, reason: str) -> Outcome:
    return Outcome(path, status, reason, {"file": path, "status": status, "reason": reason})


def _json_dumps(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False)
