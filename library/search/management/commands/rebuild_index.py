"""``python manage.py rebuild_index``: empty the configured index and index every piece."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from library.catalogue.models import Piece
from library.search.backends import get_backend
from library.search.documents import iter_documents


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


def rebuild(chunk: int = 500, progress=None) -> int:
    """Clear the configured index and add every piece, one transaction per chunk."""
    backend = get_backend()
    total = Piece.objects.count()
    started = time.perf_counter()
    backend.start_rebuild()
    done = 0
    for batch in iter_documents(chunk=chunk):
        with transaction.atomic():
            done += backend.add_bulk(batch)
        if progress:
            progress(done, total, started)
    backend.finish_rebuild()
    return done
