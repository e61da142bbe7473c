"""Compiled loops of the care stage (numba), for runs that load numba anyway.

Only runs large enough for the fused ability kernel (ability/fused.py, transitions.fused_worth_it)
use these: numba's import and cached-code load (~0.9 s CPU) is then already paid, so a kernel costs
nothing to load (an earlier version loaded numba for every behaviour run and cost a 200,000-person
run more than it saved). Each kernel does what the numpy code beside it does, in the same
floating-point operations in the same order (sums in the rows' order, as ``np.bincount`` and
``np.add.at`` do; no ``fastmath``), so the results are bit-identical (tests/test_care_paths.py runs
a model both ways and compares with ``==``). What they save is numpy's per-call overhead and the
separate gather of each column over rows scattered across a million people.

At a million people a month's care stage is memory-bound: its reads fall on rows scattered over
arrays of ~20 MB that the ability month has just streamed through, so what counts is the cache
lines touched. Hence the columns fixed for life packed in one word per row (:func:`pack_rows`), the
candidates found by a bitmap rather than a merge (:func:`gather_marked`), and loops with no branch
on the people's values (reads of the next rows then overlap with the current ones).

:func:`warm` compiles every kernel into numba's cache (``make install`` runs it, as it runs
ability.fused's), so that no run pays the compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from agingsim.services.choice_kernels import cell_exponents, choose_cells
from agingsim.services.place_kernels import admit_beds, day_care_places, first_fit


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
    summed in the holders' order (the columns gathered first: independent reads overlap)."""
    n, n_k = len(holders), price.shape[0]
    k_, w_, lv_ = np.empty(n, np.int64), np.empty(n, np.float64), np.empty(n, np.int64)
    for t in range(n):
        h = holders[t]
        k_[t], w_[t], lv_[t] = provider[h], weight[h], level[h]
    occ = np.zeros(n_k)
    rev = np.zeros(n_k)
    for t in range(n):
        occ[k_[t]] += w_[t]
        rev[k_[t]] += w_[t] * price[k_[t], min(lv_[t], 4)]
    return occ, rev


@njit(cache=True, nogil=True)
def shift_moved(
    rows, was, now, packed, setting, weight, wait_since, n_settings, n_levels, cells, dead, family_care,
    period,
):  # pragma: no cover  # fmt: skip
    """CareSystem.step's count moves of the rows whose level changed (``count_moves`` from their
    level ``was`` to ``now``, as the month's transition found them); returns the rows that died, in
    row order, and the rows that may review (alive, and not cared for by family at intact ability
    without waiting: the reviewers' filter of :func:`gather_marked`) with each one's person id
    modulo ``period`` (their review residue), read here while the row is at hand; county and id
    from ``packed``. The columns are gathered first, in a loop of independent reads (a third
    faster cold than reading them inside the sums)."""
    n = len(rows)
    f_, s_, w_ = np.empty(n, np.uint64), np.empty(n, np.int64), np.empty(n, np.float64)
    ws = np.empty(n, np.bool_)
    for t in range(n):
        r = rows[t]
        f_[t], s_[t], w_[t], ws[t] = packed[r], setting[r], weight[r], wait_since[r] >= 0
    delta = np.zeros(cells.size)
    base = np.empty(n, np.int64)
    for t in range(n):
        base[t] = np.int64((f_[t] >> np.uint64(32)) & np.uint64(0xFFFF)) * n_settings + s_[t]
        delta[base[t] * n_levels + np.int64(was[t])] += -w_[t]
    n_dead, n_rev = 0, 0
    died, rev, res = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    for t in range(n):
        r, lv = rows[t], np.int64(now[t])
        delta[base[t] * n_levels + lv] += w_[t]
        died[n_dead] = r  # no branch on who died: the next row overwrites it if not
        n_dead += lv == dead
        rev[n_rev] = r
        res[n_rev] = np.int64(np.int32(f_[t] & np.uint64(0xFFFFFFFF))) % period
        n_rev += (lv != dead) & ((lv > 0) | (s_[t] != family_care) | ws[t])
    for j in range(cells.size):
        cells[j] += delta[j]
    return died[:n_dead], rev[:n_rev], res[:n_rev]


@njit(cache=True, nogil=True)
def sparse_uniforms(pids, key):  # pragma: no cover
    """rng.RandomStreams.sparse_uniforms's hash of each id with the month's ``key`` (SplitMix64's
    finaliser, uint64 arithmetic wrapping as numpy's does), as U[0, 1) on 53 bits."""
    u64 = np.uint64
    out = np.empty(len(pids), np.float64)
    for i in range(len(pids)):
        z = u64(u64(u64(pids[i]) * u64(0x9E3779B97F4A7C15)) + key)
        z = u64(u64(z ^ u64(z >> u64(30))) * u64(0xBF58476D1CE4E5B9))
        z = u64(u64(z ^ u64(z >> u64(27))) * u64(0x94D049BB133111EB))
        z = u64(z ^ u64(z >> u64(31)))
        out[i] = np.float64(u64(z >> u64(11))) * (1.0 / 9007199254740992.0)
    return out


#: de Bruijn sequence and table: the index of a 64-bit word's lowest set bit from one multiply
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_BIT_INDEX = np.zeros(64, np.int64)
for _i in range(64):
    _BIT_INDEX[(((1 << _i) * 0x03F79D71B4CB0A89) & (1 << 64) - 1) >> 58] = _i


@njit(cache=True, nogil=True)
def gather_marked(
    rows, bits, ability, care_setting, wait_since, packed, age_m, dead, family_care, fixed, by_age, s_level,
    s_setting, group_of_cell,
):  # pragma: no cover  # fmt: skip
    """care_system._union_rows(rows), then the reviewers' filter and columns, without a merge:
    ``rows`` (any order, repeats allowed) are marked in the bitmap ``bits`` (one bit per row, all
    zero on entry and again on return), which is then read back word by word from the lowest
    marked row to the highest, giving every row once in row order; only the rows kept have their
    other columns read (from ``packed``, see :func:`pack_rows`). Three passes without a branch on
    the people's values, so the reads of rows scattered over the arrays overlap (a third faster
    than one pass with the filter's branch, measured cold at a million people). With a
    ``group_of_cell`` (else empty), each kept row's priority group too, its cell read from the
    tables of services.admission.FixedCells.packed_tables while the row's columns are at hand."""
    n = len(rows)
    lo, hi = len(bits), -1
    for t in range(n):
        w = rows[t] >> 6
        bits[w] |= np.uint64(1) << np.uint64(rows[t] & 63)
        lo, hi = min(lo, w), max(hi, w)
    uniq = np.empty(n, np.int64)
    u = 0
    zero, one = np.uint64(0), np.uint64(1)
    for w in range(lo, hi + 1):
        x = bits[w]
        if x == zero:
            continue
        bits[w] = zero
        while x != zero:
            low = x & (~x + one)  # the lowest bit set, its index by de Bruijn multiplication
            uniq[u] = (np.int64(w) << 6) + _BIT_INDEX[(low * _DEBRUIJN) >> np.uint64(58)]
            u += 1
            x ^= low
    kept = np.empty(u, np.int64)
    lv, cs, ww = np.empty(u, ability.dtype), np.empty(u, care_setting.dtype), np.empty(u, np.bool_)
    m = 0
    for t in range(u):
        r = uniq[t]
        level, setting, waiting = ability[r], care_setting[r], wait_since[r] >= 0
        # written whether kept or not (the next row overwrites it if not): no branch to mispredict
        kept[m], lv[m], cs[m], ww[m] = r, level, setting, waiting
        m += (level != dead) & ((level > 0) | (setting != family_care) | waiting)
    ci, fa, ec = np.empty(m, np.int16), np.empty(m, np.int8), np.empty(m, np.int8)
    ag, fl, pi = np.empty(m, age_m.dtype), np.empty(m, np.uint8), np.empty(m, np.int32)
    for t in range(m):
        r = kept[t]
        f = packed[r]
        pi[t] = np.int32(f & np.uint64(0xFFFFFFFF))
        ci[t] = np.int16((f >> np.uint64(32)) & np.uint64(0xFFFF))
        fa[t] = np.int8((f >> np.uint64(48)) & np.uint64(15))
        ec[t] = np.int8((f >> np.uint64(52)) & np.uint64(15))
        fl[t] = np.uint8(f >> np.uint64(56))
        ag[t] = age_m[r]
    prio = np.empty(m if len(group_of_cell) else 0, np.int8)
    for t in range(len(prio)):
        high = np.int64(fa[t]) | (np.int64(ec[t]) << 4) | (np.int64(fl[t]) << 8)  # the word's bits 48-63
        cell = fixed[high] + by_age[ag[t]]
        prio[t] = group_of_cell[cell + np.int64(lv[t]) * s_level + np.int64(cs[t]) * s_setting]
    return kept[:m], lv[:m], cs[:m], ww[:m], ci, fa, ec, ag, fl, pi, prio


@njit(cache=True, nogil=True)
def apply_choice(
    idx, chosen, cur, was_waiting, county, prio, weight, wait_since, provider, care_setting, occupied, left,
    arrivals, month, institution, day_care,
):  # pragma: no cover  # fmt: skip
    """Review._choose's queues, releases and home-based moves of the reviewers ``idx`` after their
    choice, in one pass in the reviewers' order (so each sum adds in the order ``np.add.at`` did:
    ``left`` and ``arrivals`` by (county, group), ``occupied`` by provider). Returns the rows that
    want a day-care place and whether each reviewer waits now."""
    n = len(idx)
    want = np.empty(n, np.int64)
    waits = np.empty(n, np.bool_)
    n_want = 0
    for t in range(n):
        i, ch, c = idx[t], chosen[t], cur[t]
        wants_bed = ch == institution
        if was_waiting[t] and not wants_bed:  # leave the queue
            left[county[t], prio[t]] += np.float64(weight[i])
            wait_since[i] = -1
        join = not was_waiting[t] and wants_bed and c != institution
        if join:  # join the queue, keeping the current setting while waiting
            arrivals[county[t], prio[t]] += np.float64(weight[i])
            wait_since[i] = month
        waits[t] = (was_waiting[t] and wants_bed) or join
        if ch != c and not wants_bed:
            if c in (institution, day_care):  # leave a bed or a day-care place
                k = provider[i]
                if k >= 0:
                    occupied[k] -= weight[i]
                provider[i] = -1
            if ch == day_care:
                want[n_want] = i
                n_want += 1
            else:
                care_setting[i] = ch
    return want[:n_want], waits


@njit(cache=True, nogil=True)
def orphans(idx, cur, provider, care_setting, institution, day_care, family_care):  # pragma: no cover
    """Review._choose's last step: reviewers who were in a place and are left in a place setting
    without a provider are cared for by family."""
    for t in range(len(idx)):
        c = cur[t]
        if c in (institution, day_care):
            i = idx[t]
            s = care_setting[i]
            if provider[i] < 0 and s in (institution, day_care):
                care_setting[i] = family_care


@njit(cache=True, nogil=True)
def january_chunk(
    lo, hi, pack_from, packed, ability, care_setting, wait_since, provider, pid, county, family, econ,
    flags, period, family_care, sel, res, queue, holders,
):  # pragma: no cover  # fmt: skip
    """January's rebuild for rows ``lo`` to ``hi`` (a thread's chunk): the packed columns of the
    rows from ``pack_from`` on (:func:`pack_rows`; the rows before it moved with the compaction,
    CareSystem.moving_rows), the rows of the rota (not cared for by family at intact ability or
    waiting; with their residue, the person id modulo ``period``), the rows waiting and the
    holders of places, written to ``sel`` / ``res`` / ``queue`` / ``holders`` from ``lo`` on, in
    row order. Returns how many of each."""
    pack_rows(packed, max(lo, pack_from), hi, pid, county, family, econ, flags)
    m, n_q, n_h = lo, lo, lo
    for i in range(lo, hi):
        waiting = wait_since[i] >= 0
        queue[n_q] = i  # no branch on the people's values: the next row overwrites it if not
        n_q += waiting
        holders[n_h] = i
        n_h += provider[i] >= 0
        sel[m] = i
        m += (ability[i] != 0) | (care_setting[i] != family_care) | waiting
    inv = 1.0 / period
    for t in range(lo, m):  # residues of the rota's rows only, without a division (~20 cycles):
        x = np.int64(pid[sel[t]])  # ids are below 2**31, so x * inv is within one of the quotient
        r = x - np.int64(x * inv) * period
        r += period * (r < 0)
        r -= period * (r >= period)
        res[t] = r
    return m - lo, n_q - lo, n_h - lo


@njit(cache=True, nogil=True)
def by_residue(rows, res, period):  # pragma: no cover
    """``rows`` reordered by their residue ``res`` (a stable counting sort) and the bounds of each
    residue's run."""
    bounds = np.zeros(period + 1, np.int64)
    for t in range(len(rows)):
        bounds[res[t] + 1] += 1
    for r in range(period):
        bounds[r + 1] += bounds[r]
    pos = bounds[:period].copy()
    out = np.empty(len(rows), np.int64)
    for t in range(len(rows)):
        out[pos[res[t]]] = rows[t]
        pos[res[t]] += 1
    return out, bounds


@njit(cache=True, nogil=True)
def split_known(rows, res, extra, pid, period):  # pragma: no cover
    """Review._by_residue of ``rows`` (whose residues ``res`` are known) followed by the rows
    ``extra`` (this month's entrants, whose ids are read here)."""
    n_r = len(rows)
    n = n_r + len(extra)
    allres = np.empty(n, np.int64)
    bounds = np.zeros(period + 1, np.int64)
    for t in range(n):
        r = res[t] if t < n_r else np.int64(pid[extra[t - n_r]]) % period
        allres[t] = r
        bounds[r + 1] += 1
    for r in range(period):
        bounds[r + 1] += bounds[r]
    pos = bounds[:period].copy()
    out = np.empty(n, np.int64)
    for t in range(n):
        r = allres[t]
        out[pos[r]] = rows[t] if t < n_r else extra[t - n_r]
        pos[r] += 1
    return out, bounds


@njit(cache=True, nogil=True)
def holders_occupancy(holders, placed, admitted, provider, weight, level, price):  # pragma: no cover
    """CareSystem.step's month-end holders (those of ``holders`` still holding a place, then
    ``placed`` and ``admitted``, as the numpy concatenation) and their ``occupancy``, in one pass."""
    out = np.empty(len(holders) + len(placed) + len(admitted), np.int64)
    m = 0
    for t in range(len(holders)):
        out[m] = holders[t]
        m += provider[holders[t]] >= 0
    for t in range(len(placed)):
        out[m] = placed[t]
        m += 1
    for t in range(len(admitted)):
        out[m] = admitted[t]
        m += 1
    occ, rev = occupancy(out[:m], provider, weight, level, price)
    return out[:m], occ, rev


@njit(cache=True, nogil=True)
def pack_rows(packed, first, stop, pid, county, family, econ, flags):  # pragma: no cover
    """Each row's columns fixed for life in one word (person id in bits 0–31, county 32–47, family
    48–51, economic status 52–55, flags 56–63), for rows ``first`` to ``stop``: one cache line per
    row for the reads that need them all, not five (the month's reads over rows scattered across a
    million people are memory-bound)."""
    for i in range(first, stop):
        packed[i] = (
            np.uint64(np.uint32(pid[i]))
            | (np.uint64(county[i]) << np.uint64(32))
            | (np.uint64(family[i]) << np.uint64(48))
            | (np.uint64(econ[i]) << np.uint64(52))
            | (np.uint64(flags[i]) << np.uint64(56))
        )


def warm() -> None:
    """Compile (or load) every kernel for the types the care stage passes, filling numba's cache."""
    n, i8, i16, i64, f4, f8 = 4, np.int8, np.int16, np.int64, np.float32, np.float64
    rows, none = np.arange(n, dtype=i64), np.zeros(0, i64)
    small = np.zeros(n, i8)
    level, setting, county = small.copy(), small.copy(), np.zeros(n, i16)
    wait, provider, age = np.full(n, -1, i16), np.full(n, -1, i16), np.zeros(n, i16)
    weight, pid, flags = np.ones(n, f4), np.arange(n, dtype=np.int32), np.zeros(n, np.uint8)
    cells, packed, level_was = np.zeros(5 * 7), np.zeros(n, np.uint64), small.copy()
    zeros = np.zeros(n, i64)  # everyone in county 0, which has provider 0
    first_fit(rows, zeros, np.ones(n), np.array([0, 1]), zeros, np.ones(n), 1.0, rows.copy(), rows.copy(), 0)
    count_moves(rows, county, setting, level, weight, small[:0], small[:0], 5, 7, cells)
    pack_rows(packed, 0, n, pid, county, small, small, flags)
    shift_moved(rows, level, level_was, packed, setting, weight, wait, 5, 7, cells, 5, 4, 12)
    by_level, by_county = np.zeros(5), np.zeros(1)
    cell, e = cell_exponents(
        county, level, small, small, setting, np.zeros(n, np.bool_), 5, 4, 5, 5, np.zeros((5, 20)), by_level,
        by_level, by_level, by_level, by_level, 1.0, 1.0, by_county, 1.0, by_county, 1.0, by_county, 1.0,
        0, 1, 2, 3,
    )  # fmt: skip
    choose_cells(np.exp(e), cell, np.zeros(n))
    sparse_uniforms(pid, np.uint64(1))
    bits = np.zeros(1, np.uint64)
    kept, _, cs, ww, ci, *_ = gather_marked(
        rows, bits, level, setting, wait, packed, age, 5, 4, none, none, 0, 0, np.zeros(0, i8)
    )
    occupied, grid = np.zeros(n), np.zeros((n, n))
    apply_choice(
        kept, cs.copy(), cs, ww, ci, small, weight, wait, provider, setting, occupied, grid, grid, 0, 0, 3
    )
    orphans(kept, cs, provider, setting, 0, 3, 4)
    one = np.array([0, 1])
    day_care_places(
        kept, kept, cs, weight, county, pid, provider, setting, occupied, occupied.copy(), one, one[:1], 0, 3
    )
    admit_beds(
        kept, small[: len(kept)], rows[: len(kept)], rows[: len(kept)], county, weight, wait, provider,
        setting, occupied, occupied.copy(), one, one[:1], one, one[:1], 0, 0, grid, grid,
    )  # fmt: skip
    buf = [np.empty(n, i64) for _ in range(4)]
    january_chunk(
        0, n, 0, packed, level, setting, wait, provider, pid, county, small, small, flags, 12, 4, *buf
    )
    by_residue(rows, rows % 12, 12)
    split_known(rows, rows % 12, rows, pid, 12)
    price = np.ones((n, 5), f8)
    held = np.zeros(n, i16)  # everyone at provider 0
    occupancy(rows, held, weight, level, price)
    holders_occupancy(rows, none, none, held, weight, level, price)
    shift_switched(kept, cs, ci, small[: len(kept)], setting, weight, 5, 7, cells)


@njit(cache=True, nogil=True)
def shift_switched(
    rows, setting_was, county, level, care_setting, weight, n_settings, n_levels, cells
):  # pragma: no cover
    """CareSystem.step's count moves of the reviewers (``rows``, with the ``county`` and ``level``
    gathered for them) whose care setting is no longer ``setting_was``: ``count_moves`` of those
    rows from their old setting, without first gathering every reviewer's setting in numpy."""
    n = len(rows)
    now = np.empty(n, np.int64)
    for t in range(n):  # independent reads first
        now[t] = care_setting[rows[t]]
    sw = np.empty(n, np.int64)
    m = 0
    for t in range(n):
        sw[m] = t
        m += now[t] != setting_was[t]
    delta = np.zeros(cells.size)
    for j in range(m):  # every removal first, then the additions, as count_moves sums them
        t = sw[j]
        delta[(np.int64(county[t]) * n_settings + setting_was[t]) * n_levels + level[t]] += -np.float64(
            weight[rows[t]]
        )
    for j in range(m):
        t = sw[j]
        delta[(np.int64(county[t]) * n_settings + now[t]) * n_levels + level[t]] += np.float64(
            weight[rows[t]]
        )
    for j in range(cells.size):
        cells[j] += delta[j]
