"""What the benchmarks share: the spread of repeated timings (median and inter-quartile range)."""

from __future__ import annotations

import statistics


def median_iqr(values) -> tuple[float, float]:
    """``(median, IQR)`` of repeated measurements (IQR 0 for a single one)."""
    values = list(values)
    if len(values) < 2:
        return values[0], 0.0
    q = statistics.quantiles(values, n=4, method="inclusive")
    return statistics.median(values), q[2] - q[0]
