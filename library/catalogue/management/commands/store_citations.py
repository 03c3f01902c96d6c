"""``manage.py store_citations``: store the Cite box's texts of pieces that have none.

Saved pieces are queued for the worker (``library/catalogue/citation_jobs.py``); a
catalogue from before that, or one written by a bulk command or raw SQL, has pieces
with no stored text, whose first view then runs citeproc. This formats them in the four
default styles, here (``--limit`` bounds how many) or, with ``--background``, by queueing
one worker task per 1,000 pieces. Safe to re-run and to run beside the site: a text
stored twice is the same text.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from library.catalogue.citation_jobs import pieces_missing_any_style, store_cite_texts

TASK_SIZE = 1000


class Command(BaseCommand):
    help = "Format and store the default styles' citations of pieces that have none stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=0, help="at most this many pieces")
        parser.add_argument("--background", action="store_true", help="queue worker tasks instead")

    def handle(self, *args, limit: int, background: bool, **options) -> None:
        ids = pieces_missing_any_style()
        found = len(ids)
        if limit:
            ids = ids[:limit]
        if background:
            for start in range(0, len(ids), TASK_SIZE):
                store_cite_texts.enqueue(ids[start : start + TASK_SIZE])
            tasks = -(-len(ids) // TASK_SIZE)
            self.stdout.write(
                f"{found} pieces lack a stored citation; queued {len(ids)} in {tasks} tasks."
            )
            return
        started = time.perf_counter()
        for start in range(0, len(ids), TASK_SIZE):
            store_cite_texts.call(ids[start : start + TASK_SIZE])
            done = min(start + TASK_SIZE, len(ids))
            rate = done / max(time.perf_counter() - started, 1e-9)
            self.stdout.write(f"stored {done}/{len(ids)} ({rate:.1f} pieces/s)")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{found} pieces lacked a stored citation; stored {len(ids)} "
            f"in {elapsed:.1f} s; {found - len(ids)} left."
        )
