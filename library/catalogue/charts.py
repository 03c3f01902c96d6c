"""Pieces per year as a small bar chart, laid out here and drawn as inline SVG by a template.

Server-rendered so it needs no JavaScript and no outside library; every bar is a link that
filters by its year, and the same numbers are offered as a table for screen readers and
for anyone who would rather read them. Years with no pieces between the first and the last
are drawn as gaps, so the chart is a timeline rather than a list of bars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

WIDTH = 600
HEIGHT = 90
AXIS = 16  # room for the year labels under the bars
MAX_YEARS = 150  # a stray year 0 or 9999 must not make thousands of bars


@dataclass(frozen=True)
class Bar:
    year: int
    count: int
    x: float
    y: float
    width: float
    height: float
    url: str


@dataclass(frozen=True)
class Label:
    x: float
    year: int
    anchor: str  # SVG text-anchor


@dataclass(frozen=True)
class Timeline:
    bars: list[Bar]
    labels: list[Label]  # years written under the axis
    width: int = WIDTH
    height: int = HEIGHT
    axis: int = AXIS

    @property
    def rows(self) -> list[Bar]:
        """The table alternative: years with pieces, newest first."""
        return [bar for bar in reversed(self.bars) if bar.count]

    @property
    def first_year(self) -> int:
        return self.bars[0].year

    @property
    def last_year(self) -> int:
        return self.bars[-1].year

    @property
    def axis_y(self) -> int:
        return self.height - self.axis

    @property
    def label_y(self) -> int:
        return self.height - 3


def timeline(counts: Iterable[tuple[int, int]], url: Callable[[int], str]) -> Timeline | None:
    """Lay out ``(year, count)`` pairs; None when there is nothing worth drawing."""
    by_year = {int(year): int(n) for year, n in counts if year is not None and n}
    if not by_year:
        return None
    last = max(by_year)
    first = max(min(by_year), last - MAX_YEARS + 1)
    years = range(first, last + 1)
    step = WIDTH / len(years)
    tallest = max(by_year.values())
    plot = HEIGHT - AXIS
    bars = []
    for i, year in enumerate(years):
        n = by_year.get(year, 0)
        height = round(plot * n / tallest, 2) if n else 0
        bars.append(
            Bar(
                year=year,
                count=n,
                x=round(i * step + step * 0.1, 2),
                y=round(plot - height, 2),
                width=round(step * 0.8, 2),
                height=height,
                url=url(year),
            )
        )
    return Timeline(bars, _labels(years, step))


def _labels(years: range, step: float) -> list[Label]:
    """The first and last year, and round decades between when there is room.

    The end labels are anchored inwards so they are never cut off by the chart's edge.
    """
    every = 10 if len(years) > 12 else 5 if len(years) > 5 else 1
    gap = max(2, len(years) // 12)
    middle = [y for y in years if y % every == 0 and years[0] + gap < y < years[-1] - gap]
    labels = [Label(0, years[0], "start")]
    labels += [Label(round((y - years[0]) * step + step / 2, 2), y, "middle") for y in middle]
    if len(years) > 1:
        labels.append(Label(WIDTH, years[-1], "end"))
    return labels


SHADES = 5


@dataclass(frozen=True)
class Tile:
    """A country in the region grid: its ISO code, name, count and shade (1–5)."""

    code: str
    name: str
    count: int
    shade: int
    url: str


def region_tiles(regions: Iterable) -> list[Tile]:
    """Countries with pieces as tiles shaded by count, in ISO code order (the label).

    Shades step with the square root of the count, so one country with many pieces does
    not leave every other tile the palest shade.
    """
    counted = [r for r in regions if getattr(r, "n", 0) and r.iso_code]
    if not counted:
        return []
    most = max(r.n for r in counted) ** 0.5
    return [
        Tile(
            code=r.iso_code.upper(),
            name=r.name,
            count=r.n,
            shade=max(1, min(SHADES, round(SHADES * r.n**0.5 / most))),
            url=r.get_absolute_url(),
        )
        for r in sorted(counted, key=lambda r: r.iso_code.upper())
    ]
