"""``manage.py cleanup``: remove abandoned uploads and partial files after a set age.

An editor who uploads files or a citation file and never confirms leaves them staged under
``MEDIA_ROOT``; a process killed mid-write leaves a hidden ``.partial-…`` file. Nothing else
removes them, so run this from cron, e.g. hourly::

    15 * * * *  cd /srv/dossier && .venv/bin/python manage.py cleanup --max-age-hours 24
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from library.storage import TEMP_PREFIX, remove_stale

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
        self.stdout.write(
            f"Removed {total_files} stale file(s), {total_bytes:,} bytes, "
            f"older than {max_age_hours:g} hours."
        )
