"""The month's scheme bins in one compiled pass (numba), for the runs that use ability.fused.

:meth:`PersonSchemes.count <agingsim.schemes.monthly.PersonSchemes.count>` needs each row's bin key
(the grid cell of its packed state code, plus its care setting's part, plus the part fixed for life)
and the real people in each bin. In numpy that is a gather, a cast, a product and two sums over
every row, each into a fresh array of a million-plus int64 (page faults included), then a weighted
``bincount``: 0.1 s a month at 4.4 M people (cProfile of benchmarks/bench_province.py), more than
the ability month. This kernel makes one pass, writing the keys into a buffer kept from month to
month and adding each row's weight to its bin in row order, as ``np.bincount`` does, so the totals
are the same floats bit for bit (tests/test_scheme_keys.py pins it).

Only where ability.fused is already loaded (transitions.fused_worth_it): numba's import is paid
once per process, and a city run would not get it back.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def bin_keys(
    code, care, fixed, weight, by_code, care_stride, once, key, totals, live
):  # pragma: no cover - compiled
    """``key[i] = by_code[code[i]] + care[i] * care_stride + fixed[i]`` and ``totals[key[i]] +=
    weight[i]`` for every row ``i``, in row order (``totals`` starts at zero); the rows whose key
    ``once`` marks (one-off candidates, schemes.oneoff) are written in row order to ``live``.
    Returns how many."""
    c = 0
    for i in range(len(code)):
        k = by_code[code[i]] + np.int64(care[i]) * care_stride + fixed[i]
        key[i] = k
        totals[k] += weight[i]
        if once[k]:
            live[c] = i
            c += 1
    return c


def warm() -> None:
    """Compile (or load) the kernel for the types PersonSchemes.count passes."""
    n = 4
    bin_keys(
        np.zeros(n, np.int16), np.zeros(n, np.int8), np.zeros(n, np.int64), np.ones(n),
        np.zeros(n, np.int64), np.int64(1), np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n),
        np.zeros(n, np.int64),
    )  # fmt: skip
