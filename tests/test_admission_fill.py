"""Admission's first fit, taken a run of people at a time (services/admission.py ``_fill_county``),
places exactly whom the person-by-person loop it replaced places, at the same providers, in the same
order (000 §15, 001 §13/§16: no bed over-filled, a person who does not fit whole goes to the next)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from agingsim.services.admission import EPS, admit


def admit_by_person(weight, county, priority, wait_since, pid, public_of, private_of, free, tie):
    """The loop over people that ``admit`` ran until round 2 (the specification)."""
    room = free.astype(np.float64).tolist()
    remaining = np.ones(len(weight), dtype=bool)
    got: list[int] = []
    where: list[int] = []
    lightest = float(weight.min()) if len(weight) else 0.0
    for providers, ranked in ((public_of, True), (private_of, False)):
        open_ = np.array([any(room[k] >= lightest - EPS for k in ks) for ks in providers], dtype=bool)
        cand = np.flatnonzero(remaining & open_[county])
        rank = priority[cand] if ranked else np.zeros(len(cand), dtype=np.int8)
        within = tie[cand] if ranked else np.zeros(len(cand), dtype=np.int8)
        order = cand[np.lexsort((pid[cand], wait_since[cand], within, rank, county[cand]))]
        seg = county[order]
        starts = [*np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]]).tolist(), len(order)]
        if not len(order):
            continue
        for a, b in itertools.pairwise(starts):
            ks = providers[int(seg[a])]
            for i, wi in zip(order[a:b].tolist(), weight[order[a:b]].tolist(), strict=True):
                for k in ks:
                    if wi <= room[k] + EPS:
                        room[k] -= wi
                        got.append(i)
                        where.append(k)
                        break
                else:
                    if max(room[k] for k in ks) < lightest - EPS:
                        break
        remaining[got] = False
    return np.asarray(got, dtype=np.int64), np.asarray(where, dtype=np.int64)


@pytest.mark.parametrize("seed", range(40))
def test_run_at_a_time_first_fit_equals_the_loop_over_people(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, n_c = int(rng.integers(0, 3000)), int(rng.integers(1, 5))
    # a few distinct weights (entry cohorts weigh differently), some long runs of one weight
    weight = rng.choice(rng.uniform(0.3, 3.0, size=int(rng.integers(1, 6))), size=n)
    county = rng.integers(0, n_c, size=n)
    ids = iter(range(100))
    public_of = [[next(ids) for _ in range(int(rng.integers(0, 4)))] for _ in range(n_c)]
    private_of = [[next(ids) for _ in range(int(rng.integers(0, 4)))] for _ in range(n_c)]
    free = rng.uniform(0.0, 1.5, size=100) * rng.choice([1.0, 10.0, 300.0], size=100)
    args = (
        weight, county, rng.integers(0, 4, size=n).astype(np.int8), rng.integers(0, 50, size=n),
        rng.permutation(n), public_of, private_of, free, rng.integers(0, 2, size=n).astype(np.int8),
    )  # fmt: skip
    got, where = admit(*args)
    want_got, want_where = admit_by_person(*args)
    np.testing.assert_array_equal(got, want_got)
    np.testing.assert_array_equal(where, want_where)
    used = np.bincount(where, weights=weight[got], minlength=100)
    assert np.all(used <= free + EPS * (1 + len(got)))
