"""How every benchmark measures: one percentile, one peak memory, one millisecond rounding.

Two benchmarks that both print "p95" must mean the same thing by it, so the definitions live
here and nowhere else.
"""

from __future__ import annotations

import math
import resource
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def percentile(values: Sequence[float], percent: float) -> float:
    """The ``percent`` (0-100) percentile of ``values``, interpolated between the two nearest
    (numpy's default, as ``statistics.quantiles`` gives for "inclusive"); NaN when empty."""
    if len(values) == 0:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=np.float64), percent))


def ms(seconds: float, digits: int = 2) -> float:
    """Seconds as milliseconds, rounded for printing."""
    return round(seconds * 1000, digits)


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_memory() -> bool:
    """Start measuring the peak afresh (Linux 4.0+: "5" to clear_refs); False if it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_memory_since_reset_mb() -> float:
    """The resident peak since ``reset_peak_memory`` (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan
