"""Compiled loops of the reviewers' logit by cell (numba), re-exported by services.kernels.

Review._choose_by_cell without vouchers: everyone in a cell (county, level, family, economic
status, public price or not, current setting if staying counts) faces the same utilities, so the
logit is worked out once per cell present. In numpy that is ~60 calls on arrays of ~2,000 cells and
~25,000 reviewers a month at a million people, each costing more in overhead than in arithmetic;
here it is two passes, with numpy's own ``np.exp`` between them (numba's exp is the C library's,
which need not round as numpy's does). Every other operation is choice.mnl's, on the same values in
the same order (no ``fastmath``), so the choices are bit-identical (tests/test_care_paths.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def cell_exponents(
    ci, lv, family, econ, cur, public, n_lv, n_f, n_e, n_cur, base, price_per_1000, price_public,
    price_private, price_home, price_family_bed, day_care_price, wait_per_month, wait_months, shortage,
    unmet, distance_per_km, distance, stay, institution, home, family_bed, day_care,
):  # pragma: no cover  # fmt: skip
    """Each reviewer's cell (its index among the cells present, which are in key order as
    ``np.flatnonzero(np.bincount(key))`` gives them) and, per cell, its utilities less their
    largest (choice.mnl.utilities with Review._inputs' prices, then probabilities up to the
    exponential): (cell of each reviewer, (n_settings, n_cells) array to exponentiate)."""
    n, n_s = len(ci), base.shape[0]
    key = np.empty(n, np.int64)
    size = np.int64(len(wait_months)) * n_lv * n_f * n_e * 2 * n_cur
    slot = np.zeros(size, np.int64)  # 0: absent; then 1 + the cell's index
    for i in range(n):
        k = (((np.int64(ci[i]) * n_lv + lv[i]) * n_f + family[i]) * n_e + econ[i]) * 2 + public[i]
        if n_cur > 1:
            k = k * n_cur + cur[i]
        key[i] = k
        slot[k] = 1
    present = np.empty(min(n, size), np.int64)
    n_cells = 0
    for k in range(size):
        if slot[k]:
            present[n_cells] = k
            n_cells += 1
            slot[k] = n_cells
    cell = np.empty(n, np.int64)
    for i in range(n):
        cell[i] = slot[key[i]] - 1
    e = np.empty((n_s, n_cells))
    v = np.empty(n_s)
    net = np.zeros(n_s)
    for j in range(n_cells):
        rest, c_cur = divmod(present[j], n_cur)
        rest, c_pub = divmod(rest, 2)
        rest, c_econ = divmod(rest, n_e)
        rest, c_fam = divmod(rest, n_f)
        c, c_lv = divmod(rest, n_lv)
        net[institution] = price_public[c_lv] if c_pub else price_private[c_lv]
        net[home] = price_home[c_lv]
        net[family_bed] = price_family_bed[c_lv]
        net[day_care] = day_care_price
        per = price_per_1000[c_econ] / 1000.0
        col = c_lv * n_f + c_fam
        for s in range(n_s):
            v[s] = base[s, col] + per * net[s]
        v[institution] += wait_per_month * wait_months[c]
        v[home] += shortage * unmet[c]
        v[family_bed] += shortage * unmet[c]
        v[day_care] += distance_per_km * distance[c]
        if stay:
            v[c_cur] += stay
        top = v[0]
        for s in range(1, n_s):  # np.maximum's comparison
            top = top if top >= v[s] else v[s]
        for s in range(n_s):
            e[s, j] = v[s] - top
    return cell, e


@njit(cache=True, nogil=True)
def choose_cells(e, cell, u):  # pragma: no cover
    """From the cells' exponentials ``e``: their probabilities (each over the running sum of its
    column, choice.mnl.probabilities) and running sums (choice.mnl.cumulative), then each
    reviewer's setting from their cell's (choice.mnl.choose_cumulative)."""
    n_s, n_cells = e.shape
    cum = np.empty((n_cells, n_s))  # a cell's sums side by side: one cache line per reviewer
    for j in range(n_cells):
        total = e[0, j]
        for s in range(1, n_s):
            total = total + e[s, j]
        run = e[0, j] / total
        cum[j, 0] = run
        for s in range(1, n_s):
            run = run + e[s, j] / total
            cum[j, s] = run
    out = np.empty(len(u), np.int8)
    for i in range(len(u)):
        c = cell[i]
        k = 0
        for s in range(n_s):
            k += u[i] >= cum[c, s]
        out[i] = min(k, n_s - 1)
    return out
