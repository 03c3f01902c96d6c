"""``manage.py import_citations FILE...``: BibTeX, RIS or CSL-JSON files into the catalogue.

The same plan-then-apply code as the editor's import page (``library.imports.service``):
every entry found is created, skipped as a duplicate or rejected with a reason, the
counts are checked, and the writing is one transaction.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from library.catalogue.statistics import refresh_planner_statistics
from library.citations.readers import FORMATS
from library.imports.service import (
    ON_DUPLICATE,
    ImportPlan,
    ImportStopped,
    apply_plan,
    citation_paths,
    plan_import,
    read_paths,
)
from library.progress import Bar, add_progress_argument
from library.search import outbox


class Command(BaseCommand):
    help = (
        "Import citation files (.bib, .ris, CSL-JSON .json). Every entry is accounted for: "
        "created, duplicate or rejected with a reason. All or nothing: if anything fails, "
        "nothing is written."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "files", nargs="+", metavar="FILE_OR_FOLDER", help="Folders are searched recursively."
        )
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="If any file cannot be read, import nothing (default: import the others).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Read and report; write nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="List every warning (default: one line per kind of warning, with a count).",
        )
        parser.add_argument(
            "--encoding",
            help="Text encoding of the files (default: UTF-8, else Windows-1252 with a warning).",
        )
        parser.add_argument(
            "--format", choices=FORMATS, help="Format of the files (default: from the name)."
        )
        parser.add_argument(
            "--on-duplicate",
            choices=ON_DUPLICATE,
            default="skip",
            help="What to do with an entry already in the catalogue (default: skip).",
        )
        add_progress_argument(parser)

    def handle(self, *args, files: list[str], **options) -> None:
        paths, skipped = citation_paths(files)
        if skipped:
            self.stderr.write(f"{skipped} file(s) in the folders are not citation files; skipped")
        data, unreadable = read_paths(paths, max_bytes=settings.DOSSIER_MAX_IMPORT_BYTES)
        strict = options["all_or_nothing"]
        try:
            plan = plan_import(
                data,
                on_duplicate=options["on_duplicate"],
                encoding=options["encoding"],
                fmt=options["format"],
                unreadable=unreadable,
            )
            if not options["dry_run"] and not (strict and plan.failed_files):
                shown = False if options["json"] else options["progress"]
                with Bar(self.stderr, total=0, unit="pieces", shown=shown) as bar:
                    written = apply_plan(plan, progress=bar.update, all_or_nothing=strict)
                refresh_planner_statistics()
                self._report_unindexed([piece.pk for piece in written])
        except ImportStopped as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(plan.as_json(dry_run=options["dry_run"]), indent=2))
        else:
            self._summarise(plan, dry_run=options["dry_run"], verbose=options["verbose"])
        if plan.failed_files:
            others = len(plan.files) > len(plan.failed_files)
            done = (
                "the others were"
                if others and not (strict or options["dry_run"])
                else "nothing was"
            )
            reasons = "; ".join(f"{f.filename}: {f.error}" for f in plan.failed_files)
            raise CommandError(
                f"{len(plan.failed_files)} file(s) could not be read ({reasons}); {done} imported."
            )

    def _report_unindexed(self, piece_ids: list[int]) -> None:
        """Say so when the search index could not take these pieces (Whoosh's lock was held).

        The pieces are saved and the import succeeded (exit 0: running it again would only
        find duplicates); their index writes wait in the outbox and are written by the next
        index write or the worker. ``check_index`` lists them meanwhile.
        """
        waiting = outbox.pending_among(piece_ids) if piece_ids else 0
        if waiting:
            latest = outbox.pending()
            self.stderr.write(
                self.style.WARNING(
                    f"{waiting} of the {len(piece_ids)} piece(s) saved are not in the search "
                    f"index yet ({latest.last_error}); the writes are kept and retried by the "
                    "next index write or the worker (python manage.py check_index lists them)."
                )
            )

    def _summarise(self, plan: ImportPlan, *, dry_run: bool, verbose: bool = False) -> None:
        for file_plan in plan.files:
            if file_plan.error:
                self.stderr.write(self.style.ERROR(f"{file_plan.filename}: {file_plan.error}"))
                continue
            for outcome in file_plan.rejected:
                self.stderr.write(
                    self.style.WARNING(
                        f"{file_plan.filename} {outcome.where}"
                        f"{f' ({outcome.source_key})' if outcome.source_key else ''}: "
                        f"rejected: {outcome.reason}"
                    )
                )
            for outcome in file_plan.duplicates:
                self.stdout.write(
                    f"{file_plan.filename} {outcome.where} ({outcome.source_key}): "
                    f"duplicate of {outcome.matched_key}, {outcome.reason}; {outcome.action}"
                )
            if verbose:
                for line in file_plan.warning_lines():
                    self.stdout.write(f"warning: {line}")
        if not verbose:
            for group in plan.warning_groups():
                self.stdout.write(f"warning: {group.summary}")
        verb = "would create" if dry_run else "created"
        message = (
            f"Found {plan.found}: {verb} {plan.count('create')}, "
            f"{plan.count('duplicate')} duplicate(s), {plan.count('rejected')} rejected."
        )
        if dry_run:
            message += " Dry run: nothing was written."
        self.stdout.write(self.style.SUCCESS(message))
