"""``manage.py cleanup``: remove abandoned uploads and partial files after a set age.

An editor who uploads files or a citation file and never confirms leaves them staged under
``MEDIA_ROOT``; a process killed mid-write leaves a hidden ``.partial-…`` file; a worker
killed between storing a PDF attachment and committing its piece (``upload_jobs``) leaves a
complete attachment no piece names; every save leaves a finished Cite box task row
(``citation_jobs``), as does every run of the worker's index upkeep. It also prunes the
catalogue's piece change log (rows older than an hour,
:func:`~library.catalogue.facet_arrays.prune_log`), which the worker's upkeep prunes too
where a worker runs. Nothing else removes them, so run this from cron, e.g. hourly::

    15 * * * *  cd /srv/dossier && .venv/bin/python manage.py cleanup --max-age-hours 24
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from library.catalogue.citation_jobs import prune_finished
from library.catalogue.facet_arrays import PRUNE_SECONDS, prune_log
from library.catalogue.models import Piece
from library.search.tasks import prune_finished_upkeep
from library.storage import TEMP_PREFIX, Removed, remove_stale

# (folder under MEDIA_ROOT, file patterns): the upload page's staged files
# (catalogue/upload_views.py), the import page's previews (imports/views.py), and the
# temporary names of interrupted atomic writes anywhere.
STALE_FILES = (
    ("ingest-staging", ("*.upload", f"{TEMP_PREFIX}*")),
    ("imports", ("*",)),
    ("jobs", ("*.json",)),  # progress of jobs whose worker was killed (library/jobs)
    (".", (f"**/{TEMP_PREFIX}*",)),
)


class Command(BaseCommand):
    help = (
        "Remove staged uploads, import previews and partial files older than --max-age-hours "
        "(default 24). Meant for cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-age-hours",
            type=float,
            default=24.0,
            help="Remove files not modified for this many hours (default 24).",
        )

    def handle(self, *args, max_age_hours: float, **options) -> None:
        if max_age_hours < 0:
            raise ValueError("--max-age-hours must not be negative")
        media = Path(settings.MEDIA_ROOT)
        total_files = total_bytes = 0
        for folder, patterns in STALE_FILES:
            removed = remove_stale(media / folder, patterns, older_than=max_age_hours * 3600)
            total_files += removed.files
            total_bytes += removed.bytes
            if removed.files and options["verbosity"] >= 2:
                self.stdout.write(f"{media / folder}: {removed.files} file(s)")
        orphans = remove_unnamed_attachments(media, older_than=max_age_hours * 3600)
        total_files += orphans.files
        total_bytes += orphans.bytes
        if orphans.files and options["verbosity"] >= 2:
            self.stdout.write(f"{orphans.folder}: {orphans.files} attachment(s) no piece names")
        age = datetime.timedelta(hours=max_age_hours)
        tasks, upkeep = prune_finished(age), prune_finished_upkeep(age)
        changes = prune_log(batches=None)
        self.stdout.write(
            f"Removed {total_files} stale file(s), {total_bytes:,} bytes, and {tasks} finished "
            f"Cite box task(s) and {upkeep} finished index upkeep run(s), older than "
            f"{max_age_hours:g} hours; {changes} piece change log row(s) older than "
            f"{PRUNE_SECONDS // 60} minutes."
        )


def remove_unnamed_attachments(media: Path, *, older_than: float) -> Removed:
    """Attachments older than ``older_than`` seconds that no piece refers to.

    The age keeps a file stored a moment ago, whose piece is about to commit, from going.
    """
    folder = media / "attachments"
    named = {
        Path(name).name
        for name in Piece.objects.exclude(attachment="").values_list("attachment", flat=True)
    }
    unnamed = (
        [p.name for p in folder.glob("*.pdf") if p.name not in named] if folder.is_dir() else []
    )
    return remove_stale(folder, unnamed, older_than=older_than)
