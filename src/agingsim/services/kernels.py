"""Compiled loops of the care stage (numba): the reviewers' logit choice and the admission pass.

Why compiled: with numpy the choice took ~25 passes over the month's reviewers (gathers, a
five-row softmax, a running sum) and the admission pass was a Python loop per person waiting; at a
million people these were about half of the care stage. Here each is one loop, in the same
floating-point operations in the same order as the numpy definitions they replace
(choice.mnl.utilities / probabilities / choose and services.admission's first-fit rule), so the
results are bit-identical (tests/test_care_kernels.py compares them on random inputs). No
``fastmath``: it would let LLVM reorder sums and change choices at the last bit.

``cache=True`` keeps the compiled code in ``__pycache__`` so later processes load it (milliseconds)
instead of compiling (about a second); numba itself is imported only with the behaviour model.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from agingsim.choice.mnl import DAY_CARE, FAMILY_BED, HOME, INSTITUTION, N_SETTINGS

#: Beds are real people's beds; simulated people carry float weights. Slack for rounding only.
EPS = 1e-6


@njit(cache=True)
def choose_settings(
    level: np.ndarray,
    family: np.ndarray,
    econ: np.ndarray,
    current: np.ndarray,
    county: np.ndarray,
    priority_person: np.ndarray,
    u: np.ndarray,
    list_price: np.ndarray,
    voucher: np.ndarray,
    distance: np.ndarray,
    base: np.ndarray,
    n_family: int,
    price_per_1000: np.ndarray,
    wait_per_month: float,
    wait_months: np.ndarray,
    shortage: float,
    unmet_share: np.ndarray,
    distance_per_km: float,
    stay: float,
) -> np.ndarray:
    """Chosen setting of each reviewer (int8), as ``choose(probabilities(utilities(...)), u)``.

    ``list_price`` is (n_levels, n_settings + 1): columns by setting, with the institution's price
    for people outside the priority groups (private) in the setting column and the public price in
    the extra last column. ``voucher`` is (n, n_settings) or (0, n_settings) for none; net prices
    are ``max(list − voucher, 0)`` as in Review._choose. ``wait_months`` and ``unmet_share`` are per
    county, ``distance`` per reviewer (empty: 0 km).
    """
    n = len(level)
    out = np.empty(n, dtype=np.int8)
    v = np.empty(N_SETTINGS)
    net = np.empty(N_SETTINGS)
    has_voucher = voucher.shape[0] > 0
    has_distance = distance.shape[0] > 0
    for i in range(n):
        lv = level[i]
        c = county[i]
        for j in range(N_SETTINGS):
            net[j] = list_price[lv, j]
        if priority_person[i]:
            net[INSTITUTION] = list_price[lv, N_SETTINGS]
        if has_voucher:
            for j in range(N_SETTINGS):
                x = net[j] - voucher[i, j]
                net[j] = x if x >= 0.0 else 0.0  # np.maximum(x, 0.0); -0.0 stays -0.0 as there
        col = lv * n_family + family[i]
        beta = price_per_1000[econ[i]] / 1000.0
        for j in range(N_SETTINGS):
            v[j] = base[j, col] + beta * net[j]
        v[INSTITUTION] += wait_per_month * wait_months[c]
        v[HOME] += shortage * unmet_share[c]
        v[FAMILY_BED] += shortage * unmet_share[c]
        v[DAY_CARE] += distance_per_km * (distance[c] if has_distance else 0.0)
        if stay != 0.0:
            v[current[i]] += stay
        top = v[0]
        for j in range(1, N_SETTINGS):
            top = max(top, v[j])
        total = 0.0
        for j in range(N_SETTINGS):
            v[j] = np.exp(v[j] - top)
            total = v[j] if j == 0 else total + v[j]
        cum = 0.0
        k = 0
        for j in range(N_SETTINGS):
            p = v[j] / total
            cum = p if j == 0 else cum + p
            if u[i] >= cum:
                k += 1
        out[i] = min(k, N_SETTINGS - 1)
    return out


@njit(cache=True)
def first_fit(
    order: np.ndarray,
    county: np.ndarray,
    weight: np.ndarray,
    ptr: np.ndarray,
    providers: np.ndarray,
    room: np.ndarray,
    lightest: float,
    got: np.ndarray,
    where: np.ndarray,
    n_got: int,
) -> int:
    """Place people in ``order`` (grouped by county): each at the first provider of their county
    (``providers[ptr[c]:ptr[c + 1]]``) whose ``room`` holds their whole weight; once no provider of
    a county has room for even the ``lightest`` person, the rest of that county's list waits.
    Appends to ``got`` / ``where`` from ``n_got`` on, takes the room, returns the new count."""
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


@njit(cache=True)
def count_moves(
    rows: np.ndarray,
    county: np.ndarray,
    setting: np.ndarray,
    level: np.ndarray,
    weight: np.ndarray,
    setting_was: np.ndarray,
    level_was: np.ndarray,
    n_settings: int,
    n_levels: int,
    cells: np.ndarray,
) -> None:
    """Move ``rows`` in the flat (county, setting, level) counts ``cells`` from the setting and
    level they had (``setting_was`` / ``level_was`` per row; empty: as now; both empty: not
    counted before) to their current ones, as Statistics._shift did with one ``np.bincount``: the
    change is summed from zero, all removals first, then added to the counts."""
    n = len(rows)
    delta = np.zeros(cells.size)
    moved = setting_was.shape[0] > 0 or level_was.shape[0] > 0
    if moved:
        for t in range(n):
            r = rows[t]
            s = setting_was[t] if setting_was.shape[0] > 0 else setting[r]
            lv = level_was[t] if level_was.shape[0] > 0 else level[r]
            delta[(county[r] * n_settings + s) * n_levels + lv] += -np.float64(weight[r])
    for t in range(n):
        r = rows[t]
        delta[(county[r] * n_settings + setting[r]) * n_levels + level[r]] += np.float64(weight[r])
    for j in range(cells.size):
        cells[j] += delta[j]


@njit(cache=True)
def occupancy(
    holders: np.ndarray,
    provider: np.ndarray,
    weight: np.ndarray,
    level: np.ndarray,
    price: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Real people in each provider's places and their monthly bill at list prices (``price`` is
    (provider, level 0–4), the dead billed at level 4), summed in the holders' order as the
    ``np.bincount`` calls of Admitting._occupied did."""
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
