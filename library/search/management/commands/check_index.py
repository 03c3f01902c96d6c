"""``python manage.py check_index``: compare the catalogue with the index; non-zero on drift.

Index writes waiting in the outbox (Whoosh could not take them; ``library.search.outbox``)
are listed and also make it exit non-zero: until they are written the index is behind the
catalogue, whatever the comparison happened to see. ``--retry`` writes them first.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from library.search.backends import get_backend
from library.search.backends.base import IndexUnavailable
from library.search.maintenance import check
from library.search.outbox import pending
from library.search.sync import retry_pending


class Command(BaseCommand):
    help = "Check that every piece is indexed, up to date, and nothing else is (exit 1 if not)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--retry",
            action="store_true",
            help="First write the index writes waiting in the outbox, then check.",
        )

    def handle(self, *args, **options) -> None:
        backend = get_backend()
        if options["retry"]:
            written, left = retry_pending(backend)
            self.stdout.write(f"retried pending index writes: {written} written, {left} left")
        try:
            status = check(backend)
        except IndexUnavailable as exc:
            raise CommandError(
                f"The {backend.name} index is unavailable ({exc}); "
                "run python manage.py rebuild_index."
            ) from exc
        lines = [
            f"engine: {backend.name}",
            f"missing from the index: {len(status.missing)} {_sample(status.missing)}",
            f"in the index but not the catalogue: {len(status.extra)} {_sample(status.extra)}",
            f"out of date in the index: {len(status.stale)} {_sample(status.stale)}",
        ]
        waiting = pending()
        lines.append(
            f"index writes pending: {waiting.count} {_sample(waiting.piece_ids, waiting.count)}"
        )
        if not waiting.empty:
            lines.append(f"  waiting since {waiting.oldest:%Y-%m-%d %H:%M:%S %Z}")
            lines.append(f"  last error: {waiting.last_error}")
        problems = backend.problems()
        lines += [f"problem: {problem}" for problem in problems]
        for line in lines:
            self.stdout.write(line.rstrip())
        if problems:
            raise CommandError("The index is incomplete; run python manage.py rebuild_index.")
        if not waiting.empty:
            raise CommandError(
                f"{waiting.count} index write(s) are waiting; the next index write or the "
                "worker retries them, or run python manage.py check_index --retry."
            )
        if not status.ok:
            raise CommandError("The index has drifted; run python manage.py rebuild_index.")
        self.stdout.write(self.style.SUCCESS("The index matches the catalogue."))


def _sample(ids: list[int], total: int | None = None) -> str:
    if not ids:
        return ""
    shown = ", ".join(str(i) for i in ids[:10])
    more = (total if total is not None else len(ids)) > 10
    return f"(piece ids {shown}{', …' if more else ''})"
