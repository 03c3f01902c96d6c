"""``python manage.py check_index``: compare the catalogue with the index; non-zero on drift."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from library.search.backends import get_backend
from library.search.backends.base import IndexUnavailable
from library.search.maintenance import check


class Command(BaseCommand):
    help = "Check that every piece is indexed, up to date, and nothing else is (exit 1 if not)."

    def handle(self, *args, **options) -> None:
        backend = get_backend()
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
        problems = backend.problems()
        lines += [f"problem: {problem}" for problem in problems]
        for line in lines:
            self.stdout.write(line.rstrip())
        if problems:
            raise CommandError("The index is incomplete; run python manage.py rebuild_index.")
        if not status.ok:
            raise CommandError("The index has drifted; run python manage.py rebuild_index.")
        self.stdout.write(self.style.SUCCESS("The index matches the catalogue."))


def _sample(ids: list[int]) -> str:
    if not ids:
        return ""
    shown = ", ".join(str(i) for i in ids[:10])
    return f"(piece ids {shown}{', …' if len(ids) > 10 else ''})"
