"""The figures every benchmark prints beside its timings: percentiles and the load average."""

from __future__ import annotations

import os


def percentile(values: list[float], pct: float) -> float:
    """The ``pct``-th percentile of ``values``, by the nearest rank (no interpolation)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: the machine's state beside each figure."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())
