"""``manage.py load_demo``: fill an empty catalogue with the seed and real demo works."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from library.catalogue.demo import DemoDataError, load_demo
from library.catalogue.statistics import refresh_planner_statistics
from library.progress import Bar, add_progress_argument


class Command(BaseCommand):
    help = "Load the demo content (idempotent: pieces already present are skipped)."

    def add_arguments(self, parser) -> None:
        add_progress_argument(parser)

    def handle(self, *args, **options) -> None:
        shown = False if not options["verbosity"] else options["progress"]
        try:
            with Bar(self.stderr, total=0, unit="works", shown=shown) as bar:
                report = load_demo(progress=bar.update)
        except DemoDataError as exc:
            raise CommandError(f"Demo content not loaded (nothing written): {exc}") from None
        refresh_planner_statistics()
        self.stdout.write(
            f"Demo content: {report.created} piece(s) created, {report.skipped} already present."
        )
