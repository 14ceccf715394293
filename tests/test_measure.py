"""One percentile for every benchmark: "p95" means the same in each of them."""

from __future__ import annotations

import math
import statistics

from workshop.bench.measure import ms, percentile


def test_percentile_interpolates_as_statistics_quantiles_does() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 50) == 3.0
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    assert math.isclose(percentile(values, 95), cuts[-1])
    assert (percentile(values, 0), percentile(values, 100)) == (1.0, 5.0)
    assert math.isnan(percentile([], 50))


def test_milliseconds_are_rounded_for_printing() -> None:
    assert ms(0.0123456) == 12.35
    assert ms(0.0123456, 1) == 12.3
