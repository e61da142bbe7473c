"""Compiled loops of the care stage (numba), for runs that load numba anyway.

Only runs large enough for the fused ability kernel (ability/fused.py, transitions.fused_worth_it)
use these: numba's import and cached-code load (~0.9 s CPU) is then already paid, so a kernel costs
nothing to load (an earlier version loaded numba for every behaviour run and cost a 200,000-person
run more than it saved). Each kernel does what the numpy code beside it does, in the same
floating-point operations in the same order (sums in the rows' order, as ``np.bincount`` and
``np.add.at`` do; no ``fastmath``), so the results are bit-identical (tests/test_care_paths.py runs
a model both ways and compares with ``==``). What they save is numpy's per-call overhead and the
separate gather of each column over rows scattered across a million people.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Beds are real people's beds; simulated people carry float weights. Slack for rounding only
#: (services.admission.EPS; repeated here so that this module imports nothing of the care stage).
EPS = 1e-6


@njit(cache=True, nogil=True)
def first_fit(order, county, weight, ptr, providers, room, lightest, got, where, n_got):  # pragma: no cover
    """services.admission.admit's loop: people in ``order`` (grouped by county) each take a place
    at the first provider of their county (``providers[ptr[c]:ptr[c + 1]]``) whose ``room`` holds
    their whole weight; once no provider of the county has room for the ``lightest``, the rest of
    its list waits. Appends to ``got`` / ``where`` from ``n_got``; returns the new count."""
    a = 0
    n = len(order)
    while a < n:
        c = county[order[a]]
        b = a
        while b < n and county[order[b]] == c:
            b += 1
        for t in range(a, b):
            i = order[t]
            wi = weight[i]
            placed = False
            for q in range(ptr[c], ptr[c + 1]):
                k = providers[q]
                if wi <= room[k] + EPS:
                    room[k] -= wi
                    got[n_got] = i
                    where[n_got] = k
                    n_got += 1
                    placed = True
                    break
            if not placed:
                most = -np.inf
                for q in range(ptr[c], ptr[c + 1]):
                    most = max(most, room[providers[q]])
                if most < lightest - EPS:
                    break
        a = b
    return n_got


@njit(cache=True, nogil=True)
def count_moves(
    rows, county, setting, level, weight, setting_was, level_was, n_settings, n_levels, cells
):  # pragma: no cover
    """Statistics._shift's ``np.bincount``: move ``rows`` in the flat (county, setting, level)
    counts from the setting and level they had (``setting_was`` / ``level_was`` per row; empty:
    as now; both empty: not counted before) to their current ones. The change is summed from zero,
    every removal first, then added to the counts, as the bincount of [−w, w] was."""
    delta = np.zeros(cells.size)
    if setting_was.shape[0] > 0 or level_was.shape[0] > 0:
        for t in range(len(rows)):
            r = rows[t]
            s = setting_was[t] if setting_was.shape[0] > 0 else setting[r]
            lv = level_was[t] if level_was.shape[0] > 0 else level[r]
            delta[(np.int64(county[r]) * n_settings + s) * n_levels + lv] += -np.float64(weight[r])
    for t in range(len(rows)):
        r = rows[t]
        delta[(np.int64(county[r]) * n_settings + setting[r]) * n_levels + level[r]] += np.float64(weight[r])
    for j in range(cells.size):
        cells[j] += delta[j]


@njit(cache=True, nogil=True)
def occupancy(holders, provider, weight, level, price):  # pragma: no cover
    """Admitting._occupied's two ``np.bincount``: real people in each provider's places and their
    monthly bill at list prices (``price`` by provider and level 0–4; the dead billed at level 4),
    summed in the holders' order."""
    n_k = price.shape[0]
    occ = np.zeros(n_k)
    rev = np.zeros(n_k)
    for t in range(len(holders)):
        h = holders[t]
        k = provider[h]
        w = np.float64(weight[h])
        occ[k] += w
        rev[k] += w * price[k, min(level[h], 4)]
    return occ, rev
