"""``python manage.py rebuild_index``: empty the configured index and index every piece."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from library.search.maintenance import rebuild


class Command(BaseCommand):
    help = "Rebuild the search index from the catalogue, in chunks, reporting progress."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--chunk-size", type=int, default=500)

    def handle(self, *args, **options) -> None:
        chunk = options["chunk_size"]
        if chunk < 1:
            raise CommandError(f"--chunk-size must be at least 1, not {chunk}.")
        count = rebuild(chunk, progress=self._progress if options["verbosity"] else None)
        self.stdout.write(self.style.SUCCESS(f"Indexed {count} pieces."))

    def _progress(self, done: int, total: int, started: float) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "-" * (width - filled)
        self.stdout.write(f"[{bar}] {done}/{total} pieces ({rate:,.0f}/s)")
