"""The compiled care-stage loops (services/kernels.py, issue 17) give bit-for-bit what the numpy
definitions give: the logit choice of choice.mnl and the first-fit admission rule. Bundled outputs
stay byte-identical only if these agree to the last bit, so the tests compare exactly (no tolerance)
on many random reviewers and waiting lists.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from agingsim.choice.mnl import (
    DAY_CARE,
    FAMILY_BED,
    HOME,
    INSTITUTION,
    N_SETTINGS,
    ChoiceInputs,
    CompiledChoice,
    choose,
    probabilities,
    utilities,
)
from agingsim.population.attributes import ABILITY_LEVELS, ECON_STATUSES, FAMILY_SITUATIONS
from agingsim.services.admission import admit
from agingsim.services.kernels import EPS, choose_settings, count_moves, occupancy


def _model(rng: np.random.Generator, stay: float) -> CompiledChoice:
    return CompiledChoice(
        asc=rng.normal(0, 2, (len(ABILITY_LEVELS), N_SETTINGS)),
        family=rng.normal(0, 1, (len(FAMILY_SITUATIONS), N_SETTINGS)),
        price=-rng.uniform(0, 2, len(ECON_STATUSES)),
        wait_per_month=-0.05,
        shortage=-1.3,
        distance_per_km=-0.2,
        stay=stay,
        review_every_months=12,
    )


@pytest.mark.parametrize(
    ("vouchers", "distance", "stay"), list(itertools.product([False, True], [False, True], [0.0, 1.7]))
)
def test_compiled_choice_is_bit_identical_to_the_numpy_logit(vouchers, distance, stay):
    """kernels.choose_settings == choose(probabilities(utilities(...)), u) for every reviewer."""
    rng = np.random.default_rng(17)
    n, n_c = 100_000, 7
    m = _model(rng, stay)
    level = rng.integers(0, len(ABILITY_LEVELS), n).astype(np.int8)
    family = rng.integers(0, len(FAMILY_SITUATIONS), n).astype(np.int8)
    econ = rng.integers(0, len(ECON_STATUSES), n).astype(np.int8)
    current = rng.integers(0, N_SETTINGS, n).astype(np.int8)
    county = rng.integers(0, n_c, n).astype(np.int16)
    public = rng.random(n) < 0.3
    u = rng.random(n)
    u[:50] = 0.0  # the edges of the inverse CDF
    u[50:100] = 1.0 - 2**-53
    list_price = rng.uniform(0, 6000, (len(ABILITY_LEVELS), N_SETTINGS + 1))
    list_price[:, 0] = 0.0  # family care is free
    voucher = (
        rng.uniform(0, 4000, (n, N_SETTINGS)) * (rng.random((n, 1)) < 0.5) if vouchers else np.zeros((0, 5))
    )
    wait, unmet = rng.uniform(0, 60, n_c), rng.uniform(0, 1, n_c)
    km = rng.uniform(0, 10, n_c) if distance else np.zeros(0)

    lv = level.astype(np.int64)
    net = np.zeros((n, N_SETTINGS))
    net[:, INSTITUTION] = np.where(public, list_price[lv, N_SETTINGS], list_price[lv, INSTITUTION])
    for j in (HOME, FAMILY_BED, DAY_CARE):
        net[:, j] = list_price[lv, j]
    if vouchers:
        net -= voucher
        np.maximum(net, 0.0, out=net)
    c = county.astype(np.int64)
    x = ChoiceInputs(
        ability=lv, family=family.astype(np.int64), econ=econ.astype(np.int64), current=current.astype(np.int64),
        net_price=net, wait_months=wait[c], unmet_share=unmet[c], distance_km=km[c] if distance else np.zeros(n),
    )  # fmt: skip
    expected = choose(probabilities(utilities(m, x)), u)
    got = choose_settings(
        level, family, econ, current, county, public, u, list_price, voucher, km, m.base, m.family.shape[0],
        m.price, m.wait_per_month, wait, m.shortage, unmet, m.distance_per_km, m.stay,
    )  # fmt: skip
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)
    assert len(np.unique(got)) == N_SETTINGS  # the draw reaches every setting: the test can fail


def _first_fit_reference(weight, county, priority, wait_since, pid, public_of, private_of, free, tie=None):
    """The admission rule as it was written before it was compiled (one person at a time)."""
    room = free.astype(np.float64).tolist()
    remaining = np.ones(len(weight), dtype=bool)
    got, where = [], []
    lightest = float(weight.min()) if len(weight) else 0.0
    for providers, ranked in ((public_of, True), (private_of, False)):
        open_ = np.array([any(room[k] >= lightest - EPS for k in ks) for ks in providers], dtype=bool)
        cand = np.flatnonzero(remaining & open_[county])
        rank = priority[cand] if ranked else np.zeros(len(cand), dtype=np.int8)
        within = tie[cand] if ranked and tie is not None else np.zeros(len(cand), dtype=np.int8)
        order = cand[np.lexsort((pid[cand], wait_since[cand], within, rank, county[cand]))]
        seg = county[order]
        starts = [*np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]]).tolist(), len(order)]
        for a, b in itertools.pairwise(starts):
            ks = providers[int(seg[a])]
            for i in order[a:b].tolist():
                for k in ks:
                    if weight[i] <= room[k] + EPS:
                        room[k] -= weight[i]
                        got.append(i)
                        where.append(k)
                        break
                else:
                    if max(room[k] for k in ks) < lightest - EPS:
                        break
        remaining[got] = False
    return np.asarray(got, dtype=np.int64), np.asarray(where, dtype=np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_admission_places_the_same_people_in_the_same_beds(seed):
    """services.admission.admit (compiled first fit) == the one-person-at-a-time rule, on random
    waiting lists with uneven weights, ties and counties with no providers or full beds."""
    rng = np.random.default_rng(seed)
    n, n_c, n_k = 3000, 6, 20
    weight = rng.choice([7.8, 7.8, 7.8, 5.25, 12.0], n) * rng.uniform(0.99, 1.01, n)
    county = rng.integers(0, n_c, n)
    priority = rng.integers(0, 4, n).astype(np.int8)
    tie = rng.integers(0, 2, n).astype(np.int8)
    wait_since = rng.integers(0, 24, n)
    pid = rng.permutation(n)
    owner = rng.integers(0, n_c - 1, n_k)  # the last county has no provider
    public = rng.random(n_k) < 0.5
    public_of = [[k for k in range(n_k) if owner[k] == c and public[k]] for c in range(n_c)]
    private_of = [[k for k in range(n_k) if owner[k] == c and not public[k]] for c in range(n_c)]
    free = rng.uniform(0, 800, n_k) * (rng.random(n_k) < 0.8)
    got, where = admit(weight, county, priority, wait_since, pid, public_of, private_of, free, tie)
    ref_got, ref_where = _first_fit_reference(
        weight, county, priority, wait_since, pid, public_of, private_of, free, tie
    )
    assert 0 < len(got) < n  # some placed, some left waiting
    assert np.array_equal(got, ref_got) and np.array_equal(where, ref_where)


def test_compiled_counts_move_rows_as_one_bincount_did():
    """kernels.count_moves == the np.bincount of Statistics._shift before it was compiled: removals
    from the old (county, setting, level) cell and additions to the new, summed from zero in that
    order, then added to the counts."""
    rng = np.random.default_rng(3)
    n, n_c, n_l = 50_000, 9, 6
    county = rng.integers(0, n_c, n).astype(np.int16)
    setting = rng.integers(0, N_SETTINGS, n).astype(np.int8)
    level = rng.integers(0, n_l, n).astype(np.int8)
    weight = rng.uniform(5, 9, n).astype(np.float32)
    rows = np.sort(rng.choice(n, 20_000, replace=False))
    was_s = rng.integers(0, N_SETTINGS, len(rows)).astype(np.int8)
    was_l = rng.integers(0, n_l, len(rows)).astype(np.int8)
    start = rng.uniform(0, 1e4, n_c * N_SETTINGS * n_l)
    none = np.zeros(0, dtype=np.int8)
    for s_was, l_was in ((None, None), (was_s, None), (None, was_l), (was_s, was_l)):
        c = county[rows].astype(np.int64) * N_SETTINGS
        key = (c + setting[rows]) * n_l + level[rows]
        w = weight[rows]
        if s_was is not None or l_was is not None:
            old = (c + (setting[rows] if s_was is None else s_was)) * n_l + (
                level[rows] if l_was is None else l_was
            )
            key, w = np.concatenate([old, key]), np.concatenate([-w, w])
        expected = start + np.bincount(key, weights=w, minlength=start.size)
        got = start.copy()
        count_moves(
            rows, county, setting, level, weight, none if s_was is None else s_was, none if l_was is None else l_was,
            N_SETTINGS, n_l, got,
        )  # fmt: skip
        assert np.array_equal(got, expected)


def test_compiled_occupancy_sums_places_and_bills_in_the_holders_order():
    """kernels.occupancy == the two np.bincount calls of Admitting._occupied it replaced."""
    rng = np.random.default_rng(4)
    n, n_k = 40_000, 30
    provider = rng.integers(-1, n_k, n).astype(np.int16)
    weight = rng.uniform(5, 9, n).astype(np.float32)
    level = rng.integers(0, 6, n).astype(np.int8)  # 5: died this month, billed at level 4
    price = rng.uniform(1000, 6000, (n_k, 5))
    holders = rng.permutation(np.flatnonzero(provider >= 0))
    k = provider[holders].astype(np.int64)
    w = weight[holders].astype(np.float64)
    lvl = np.minimum(level[holders], 4).astype(np.int64)
    occ, rev = occupancy(holders, provider, weight, level, price)
    assert np.array_equal(occ, np.bincount(k, weights=w, minlength=n_k))
    assert np.array_equal(rev, np.bincount(k, weights=w * price[k, lvl], minlength=n_k))
