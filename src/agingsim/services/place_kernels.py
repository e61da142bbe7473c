"""Compiled loops of admissions to beds and places (numba), re-exported by services.kernels.

As there: each loop does what the numpy code it stands in for does, with the sums in the same
order, so the places and every total are bit-identical (tests/test_care_paths.py).
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
def day_care_places(
    want, idx, cur, weight, county, pid, provider, care_setting, occupied, beds, ptr, providers, institution,
    day_care,
):  # pragma: no cover  # fmt: skip
    """Review._choose's day-care places for the rows ``want``: services.admission.admit with no
    public beds, priorities or waits (by county, then person id, the first provider of the county
    with room, counties with no room for the lightest skipped), the places written to the rows
    and ``occupied`` (in the order placed, as ``np.add.at``). Returns the rows placed who were not
    in an institution (the reviewers ``idx``, in row order, with their settings ``cur``)."""
    n = len(want)
    w, c, key = np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64)
    lightest = np.inf
    for t in range(n):
        r = want[t]
        w[t], c[t] = np.float64(weight[r]), county[r]
        key[t] = (c[t] << 32) + pid[r]  # ids below 2**31: (county, id) order, ids unique
        lightest = min(lightest, w[t])
    room = beds - occupied
    is_open = np.zeros(len(ptr) - 1, np.bool_)
    for k in range(len(ptr) - 1):
        for q in range(ptr[k], ptr[k + 1]):
            is_open[k] = is_open[k] or room[providers[q]] >= lightest - EPS
    cand = np.empty(n, np.int64)
    m = 0
    for t in range(n):
        if is_open[c[t]]:
            cand[m] = t
            m += 1
    cand = cand[:m]
    order = cand[np.argsort(key[cand])]
    got, where = np.empty(m, np.int64), np.empty(m, np.int64)
    n_got = first_fit(order, c, w, ptr, providers, room, lightest, got, where, 0)
    new = np.empty(n_got, np.int64)
    n_new = 0
    for j in range(n_got):
        r = want[got[j]]
        provider[r] = where[j]
        care_setting[r] = day_care
        occupied[where[j]] += np.float64(weight[r])
        new[n_new] = r
        n_new += cur[np.searchsorted(idx, r)] != institution
    return new[:n_new]


@njit(cache=True, nogil=True)
def admit_beds(
    queue, prio, public_order, private_order, county, weight, wait_since, provider, care_setting, occupied,
    beds, pub_ptr, pub_flat, priv_ptr, priv_flat, month, institution, admissions, wait_sum,
):  # pragma: no cover  # fmt: skip
    """Admitting._admit_all's admissions from the ``queue`` (rows), given its positions in the
    public beds' order and in the private beds' (services.admission.admit's lexsorts over the
    whole queue): in each county the public providers, then the private ones, by occupancy
    (lowest first; as Python's stable ``sorted``), the first fit of admit in each order (a county
    with no room for the lightest is skipped by first_fit itself, as admit's filter skipped it),
    the admitted rows' place, setting and wait written, and ``occupied``, ``admissions`` and
    ``wait_sum`` (by county and group ``prio``) summed in the order admitted (as ``np.add.at``).
    Returns each county's people waiting and admitted (summed in the queue's and the admitted
    order, as ``np.bincount``), and the positions admitted with their weights and waits (for the
    monitors) and the new holders."""
    n, n_c = len(queue), len(pub_ptr) - 1
    c, w = np.empty(n, np.int64), np.empty(n)
    waiting = np.zeros(n_c)
    for t in range(n):
        r = queue[t]
        c[t], w[t] = county[r], np.float64(weight[r])
    for t in range(n):
        waiting[c[t]] += w[t]
    ratio = np.empty(len(beds))
    for k in range(len(beds)):
        ratio[k] = occupied[k] / beds[k] if beds[k] > 0 else np.inf
    room = beds - occupied
    lightest = w.min() if n else 0.0
    got, where = np.empty(n, np.int64), np.empty(n, np.int64)
    n_got = 0
    placed = np.zeros(n, np.bool_)
    for order, ptr, flat in ((public_order, pub_ptr, pub_flat), (private_order, priv_ptr, priv_flat)):
        ranked = np.empty(len(flat), np.int64)  # each county's providers, emptiest first
        for k in range(n_c):
            ks = flat[ptr[k] : ptr[k + 1]]
            ranked[ptr[k] : ptr[k + 1]] = ks[np.argsort(ratio[ks], kind="mergesort")]
        left = np.empty(n, np.int64)
        m = 0
        for t in order:
            if not placed[t]:
                left[m] = t
                m += 1
        first = n_got
        n_got = first_fit(left[:m], c, w, ptr, ranked, room, lightest, got, where, n_got)
        for j in range(first, n_got):
            placed[got[j]] = True
    new = np.empty(n_got, np.int64)
    w_got, waited = np.empty(n_got), np.empty(n_got)
    admitted = np.zeros(n_c)
    n_new = 0
    for j in range(n_got):
        t = got[j]
        r = queue[t]
        waited[j] = np.float64(month - np.int64(wait_since[r]))
        new[n_new] = r  # the rest held a day-care place
        n_new += provider[r] < 0
        provider[r] = where[j]
        care_setting[r] = institution
        wait_since[r] = -1
        w_got[j] = w[t]
    for j in range(n_got):
        t = got[j]
        occupied[where[j]] += w_got[j]
        admissions[c[t], prio[t]] += w_got[j]
        wait_sum[c[t], prio[t]] += w_got[j] * waited[j]
        admitted[c[t]] += w_got[j]
    return waiting, admitted, got[:n_got], w_got, waited, new[:n_new]
