"""``python manage.py rebuild_index``: empty the configured index and index every piece."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from library.progress import Bar, add_progress_argument
from library.search.maintenance import rebuild


class Command(BaseCommand):
    help = "Rebuild the search index from the catalogue, in chunks, reporting progress."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--chunk-size", type=int, default=500)
        add_progress_argument(parser)

    def handle(self, *args, **options) -> None:
        chunk = options["chunk_size"]
        if chunk < 1:
            raise CommandError(f"--chunk-size must be at least 1, not {chunk}.")
        shown = False if not options["verbosity"] else options["progress"]
        with Bar(self.stderr, total=0, unit="pieces", shown=shown) as bar:
            count = rebuild(chunk, progress=lambda done, total, _started: bar.update(done, total))
        self.stdout.write(self.style.SUCCESS(f"Indexed {count} pieces."))
