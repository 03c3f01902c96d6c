"""One progress bar for every long command: tqdm on stderr, shown on a terminal only.

``import_citations``, ``ingest``, ``rebuild_index`` and ``load_demo`` each take
``--progress`` / ``--no-progress`` (default: a bar when stderr is a terminal, nothing when
it is a file or a pipe, so logs and ``--json`` output stay clean) and draw the same bar.
tqdm does the drawing, the rate and the time left; messages printed while a bar is shown
go through :meth:`Bar.note`, so they do not tear it.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import OutputWrapper
from tqdm import tqdm


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Show a progress bar on stderr (default: when stderr is a terminal).",
    )


class Bar:
    """A tqdm bar on a command's stderr; does nothing when not shown."""

    def __init__(
        self, stderr: OutputWrapper, *, total: int, unit: str, shown: bool | None = None
    ) -> None:
        # tqdm writes "\r…" itself: Django's wrapper would add a newline to every update.
        stream: Any = getattr(stderr, "_out", stderr)
        self.stderr = stderr
        # disable=None: tqdm shows the bar only when the stream is a terminal.
        self.bar = tqdm(
            total=total,
            unit=f" {unit}",
            file=stream,
            disable=None if shown is None else not shown,
            dynamic_ncols=True,
            mininterval=0.2,
        )

    @property
    def shown(self) -> bool:
        return not self.bar.disable

    def update(self, done: int, total: int | None = None) -> None:
        """Move the bar to ``done`` (of ``total``, when the total has changed)."""
        if total is not None and total != self.bar.total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def describe(self, text: str) -> None:
        self.bar.set_postfix_str(text, refresh=False)

    def note(self, message: str) -> None:
        """A line on stderr that leaves the bar whole below it."""
        if self.shown:
            self.bar.write(message, file=self.bar.fp)
        else:
            self.stderr.write(message, style_func=_as_is)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _as_is(text: str) -> str:
    return text
