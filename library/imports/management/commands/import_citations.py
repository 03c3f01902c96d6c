"""``manage.py import_citations FILE...``: BibTeX, RIS or CSL-JSON files into the catalogue.

The same plan-then-apply code as the editor's import page (``library.imports.service``):
every entry found is created, skipped as a duplicate or rejected with a reason, the
counts are checked, and the writing is one transaction.
"""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from library.catalogue.statistics import refresh_planner_statistics
from library.citations.readers import FORMATS
from library.imports.service import (
    ON_DUPLICATE,
    ImportPlan,
    ImportStopped,
    apply_plan,
    plan_import,
    read_paths,
)


class Command(BaseCommand):
    help = (
        "Import citation files (.bib, .ris, CSL-JSON .json). Every entry is accounted for: "
        "created, duplicate or rejected with a reason. All or nothing: if anything fails, "
        "nothing is written."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--dry-run", action="store_true", help="Read and report; write nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
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

    def handle(self, *args, files: list[str], **options) -> None:
        try:
            data = read_paths(files, max_bytes=settings.DOSSIER_MAX_IMPORT_BYTES)
        except OSError as exc:
            raise CommandError(f"{exc.filename}: cannot read the file ({exc.strerror})") from None
        except ImportStopped as exc:
            raise CommandError(str(exc)) from None
        try:
            plan = plan_import(
                data,
                on_duplicate=options["on_duplicate"],
                encoding=options["encoding"],
                fmt=options["format"],
            )
            if not options["dry_run"] and not plan.failed_files:
                apply_plan(plan, progress=self._progress if not options["json"] else None)
                refresh_planner_statistics()
        except ImportStopped as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(plan.as_json(dry_run=options["dry_run"]), indent=2))
        else:
            self._summarise(plan, dry_run=options["dry_run"])
        if plan.failed_files:
            raise CommandError(
                f"{len(plan.failed_files)} file(s) could not be read; nothing was imported."
            )

    def _progress(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        width = 30
        filled = width * done // total
        end = "\n" if done == total else ""
        self.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total}", ending=end)
        self.stderr.flush()

    def _summarise(self, plan: ImportPlan, *, dry_run: bool) -> None:
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
            for line in file_plan.warning_lines():
                self.stdout.write(f"warning: {line}")
        verb = "would create" if dry_run else "created"
        message = (
            f"Found {plan.found}: {verb} {plan.count('create')}, "
            f"{plan.count('duplicate')} duplicate(s), {plan.count('rejected')} rejected."
        )
        if dry_run:
            message += " Dry run: nothing was written."
        self.stdout.write(self.style.SUCCESS(message))
