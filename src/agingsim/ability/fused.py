"""The month's ability transition, death and ageing fused into one compiled pass (numba).

For large runs only (transitions.fused_worth_it): the numpy engine (transitions.month_transition, then
apply_moves and the ageing in model._transition) makes ~20 passes over each block of people; this
kernel makes one, with the same 32-bit draw per person (:func:`hash32_one` is rng.hash32 word for
word) and the same comparisons, so its results are identical to the numpy engine's, bit for bit
(tests/test_ability.py pins it). Each block of rows is independent, so the result does not depend
on how rows are split across threads (parallel.chunks; the kernels release the GIL).

Why gated by size: numba's import and the load of the cached machine code cost ~0.9 s of CPU once
per process (measured; it does not depend on the run's size), while the kernel saves ~2.5 ns of CPU
per person-month over numpy single-threaded (1.2 against 3.6–3.8 ns a row at a million people,
2 December 2026), and runs on every core. A city run (200 000 people × 120 months) would get
slower; a province run (5 M × 240) saves seconds. numba ships wheels for Linux, macOS and Windows
(x86-64 and arm64) for the CPython versions agingsim supports, so it installs without a compiler; the
compiled code is cached next to this file (or in numba's user cache directory where that is
read-only, or $NUMBA_CACHE_DIR), and `make install` warms it (:func:`warm`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from agingsim.population.attributes import DEAD

#: rows hashed and compared per inner block (fits the core's L1 cache with its flags)
BLOCK = 1024


@njit(cache=True, nogil=True, inline="always")
def hash32_one(pid: int, k1: np.uint32, k2: np.uint32) -> np.uint32:  # pragma: no cover - compiled
    """rng.hash32 of one id: ``triple32(id · φ + k1)`` with ``k2`` mixed in after the first round.

    Every step is cast back to uint32 so that products wrap at 2³² as numpy's uint32 ufuncs do, and
    so that the compiler keeps 32-bit lanes (8 ids per AVX2 instruction)."""
    u32 = np.uint32
    x = u32(u32(u32(pid) * u32(0x9E3779B9)) + k1)
    x = u32(x ^ u32(x >> u32(17)))
    x = u32(u32(x * u32(0xED5AD4BB)) ^ k2)
    x = u32(x ^ u32(x >> u32(11)))
    x = u32(x * u32(0xAC4C1B51))
    x = u32(x ^ u32(x >> u32(15)))
    x = u32(x * u32(0x31848BAB))
    return u32(x ^ u32(x >> u32(14)))


@njit(cache=True, nogil=True)
def hash_ids(pids, k1, k2, out):  # pragma: no cover - compiled
    """``out[i] = hash32_one(pids[i], k1, k2)`` (used to check the kernel's words against rng)."""
    for i in range(len(pids)):
        out[i] = hash32_one(pids[i], k1, k2)


@njit(cache=True, nogil=True)
def month_rows(
    a, b, code, ability, age_m, pid, k1, k2, threshold, cell_of, cumulative, order, span, rows, was, now
):  # pragma: no cover - compiled
    """Rows ``a:b``: draw, move the ~3% whose draw passes their threshold, age the living.

    Per block: gather each row's threshold, hash the ids and compare (vectorised), then settle
    the movers' new level by the inverse CDF on ``u = (draw + 0.5) / 2**32`` against the float32
    cumulative row (as transitions.month_transition does), then add a month to the living's age and
    code. The rows that changed level (incl. death) are written, in row order, to ``rows[a:]``, and
    their levels before and after to ``was[a:]`` and ``now[a:]`` (the care stage's counts move by
    them without reading the rows' levels again); returns how many."""
    c = 0
    ncol = cumulative.shape[1]
    words = np.empty(BLOCK, np.uint32)
    thr = np.empty(BLOCK, np.uint32)
    over = np.zeros(BLOCK, np.uint8)
    over8 = over.view(np.uint64)
    for s0 in range(a, b, BLOCK):
        e = min(s0 + BLOCK, b)
        m = e - s0
        pb = pid[s0:e]
        cb = code[s0:e]
        # the thresholds first, in a loop of their own: gathered inside the hashing loop they kept
        # it from vectorising (2.6 ns a row; 1.1 ns split). Codes are ≥ 0: an unsigned index
        # spares the check for negative indices.
        for j in range(m):
            thr[j] = threshold[np.uint16(cb[j])]
        for j in range(m):
            w = hash32_one(pb[j], k1, k2)
            words[j] = w
            over[j] = w > thr[j]
        for g in range((m + 7) // 8):
            if over8[g] == 0:
                continue
            for j in range(g * 8, min(g * 8 + 8, m)):
                if over[j]:
                    i = s0 + j
                    old = np.int64(ability[i])
                    cd = np.int64(code[i])
                    cell = cell_of[cd]
                    u = (np.float64(words[j]) + 0.5) * (1.0 / 4294967296.0)
                    k = 0
                    for q in range(ncol):
                        k += u >= np.float64(cumulative[cell, q])
                    if k > 0:  # past the threshold, yet the float32 CDF may still say "stay"
                        new = order[cell, k]
                        ability[i] = new
                        code[i] = cd + (np.int64(new) - old) * span
                        rows[a + c] = i
                        was[a + c] = old
                        now[a + c] = new
                        c += 1
        ab = ability[s0:e]
        ag = age_m[s0:e]
        for j in range(m):
            alive = ab[j] != DEAD
            cb[j] += alive
            ag[j] += alive
        over[m:] = 0
    return c


def warm() -> None:
    """Compile (or load) the kernels for the types the model passes, filling numba's cache."""
    n = 4
    rows = np.zeros(n, np.int64)
    thr = np.full(n, np.iinfo(np.uint32).max, np.uint32)
    k = np.uint32(1)
    month_rows(
        0, n, np.zeros(n, np.int16), np.zeros(n, np.int8), np.zeros(n, np.int16),
        np.arange(n, dtype=np.int32), k, k, thr, np.zeros(n, np.int32),
        np.ones((n, 5), np.float32), np.zeros((n, 6), np.int8), 1, rows, np.zeros(n, np.int8),
        np.zeros(n, np.int8),
    )  # fmt: skip
    hash_ids(np.arange(n, dtype=np.int32), k, k, np.zeros(n, np.uint32))
    from agingsim.results import fused as fused_results  # the large runs' other kernels
    from agingsim.schemes import fused as fused_schemes

    fused_schemes.warm()
    fused_results.warm()
