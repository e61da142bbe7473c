"""The yearly stock count in one compiled pass (numba), for the runs that use ability.fused.

:meth:`PopulationCollector.snapshot <agingsim.results.collectors.PopulationCollector.snapshot>`
counts the real people by (county, packed state code) every 1 January. In numpy that is a cast of
the county column to a fresh int64 array, a product and a sum over every row, then a weighted
``np.bincount``, which holds the interpreter lock throughout: 8 ms a year at 1.3 M rows on this
machine (benchmarks/profile_overlap.py, ``new_year:snapshot``), a sixth of the January work. This
kernel reads the three columns once and adds each row's weight to its cell in row order, as
``np.bincount`` does, so the counts are the same floats bit for bit (tests/test_population.py).

Only where ability.fused is already loaded (transitions.fused_worth_it): numba's import is paid
once per process, and a city run (11 snapshots of 0.2 M rows) would not get it back.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def stock_counts(county, code, weight, n_codes, totals):  # pragma: no cover - compiled
    """``totals[county[i] * n_codes + code[i]] += weight[i]`` for every row ``i``, in row order
    (``totals`` starts at zero)."""
    for i in range(len(code)):
        totals[np.int64(county[i]) * n_codes + code[i]] += weight[i]


def warm() -> None:
    """Compile (or load) the kernel for the types PopulationCollector.snapshot passes."""
    n = 4
    stock_counts(
        np.zeros(n, np.int16), np.zeros(n, np.int16), np.ones(n, np.float32), np.int64(4), np.zeros(16)
    )
