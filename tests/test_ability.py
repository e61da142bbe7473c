"""Issue 2 §3: intensities → monthly probabilities, death by ability level, vectorised sampling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.linalg import logm

from agingsim.ability import build_ability_model, next_state
from agingsim.ability.intensities import (
    DEAD,
    N_STATES,
    ability_prevalence,
    interpolate_mx,
    transition_matrices,
)
from agingsim.rng import RandomStreams


@pytest.fixture
def ability(tiny_scenario):
    return build_ability_model(tiny_scenario)


def test_monthly_rows_are_probability_distributions(ability):
    p = ability.monthly
    assert p.shape == (ability.n_ages, 2, N_STATES, N_STATES)
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)


def test_dead_is_absorbing(ability):
    np.testing.assert_array_equal(ability.monthly[:, :, DEAD, DEAD], 1.0)
    np.testing.assert_array_equal(ability.intensities[:, :, DEAD, :], 0.0)


def test_intensity_rows_sum_to_zero(ability):
    np.testing.assert_allclose(ability.intensities.sum(axis=-1), 0.0, atol=1e-12)


def test_small_steps_recover_the_intensities(ability):
    """(P(dt) − I) / dt → Q as dt → 0: the matrix exponential is the continuous-time model."""
    q = ability.intensities
    dt = 1e-5
    p = transition_matrices(q, dt)
    np.testing.assert_allclose((p - np.eye(N_STATES)) / dt, q, atol=1e-3 * np.abs(q).max())


def test_monthly_matrix_is_the_exponential_of_q_over_12(ability):
    """logm(P_month) × 12 gives Q back for a chosen cell (age 75, women)."""
    a = 75 - ability.age_min
    recovered = logm(ability.monthly[a, 1]).real * 12
    np.testing.assert_allclose(recovered, ability.intensities[a, 1], atol=1e-8)


def test_death_rates_reproduce_the_life_table_at_margin_prevalence(tiny_scenario, ability):
    """Σ_level π_level μ_level(x) = m(x): hazard ratios only redistribute the life table's deaths."""
    ages = np.arange(60, ability.age_max + 1)
    urban = sum(c.share_60plus * c.urban_share for c in tiny_scenario.region.counties)
    prev = ability_prevalence(tiny_scenario.margins, ages, urban)
    mx = interpolate_mx(tiny_scenario.life_table, ages)
    mu = ability.intensities[:, :, :DEAD, DEAD]
    np.testing.assert_allclose((prev * mu).sum(axis=-1), mx, rtol=1e-12)
    # and worse ability means a higher death rate (hazard ratios increase with level)
    assert (np.diff(mu, axis=-1) > 0).all()


def test_life_table_interpolation_passes_through_group_rates(tiny_scenario):
    """m(x) at the middle of a WPP 5-year group equals the group's published rate."""
    lt = tiny_scenario.life_table.rates
    mx = interpolate_mx(tiny_scenario.life_table, np.array([72.0]))  # evaluated at 72 + 0.5 = mid of 70-74
    published = lt[(lt.sex == "F") & (lt.age_lower == 70)]["mx"].item()
    assert mx[0, 1] == pytest.approx(published, rel=1e-12)


def test_sampled_transitions_match_the_monthly_matrix(ability):
    """Drawing 400k people in one cell reproduces that row of P within sampling error."""
    n = 400_000
    rng = np.random.default_rng(1)
    age = np.full(n, 88, dtype=np.int16)
    sex = np.ones(n, dtype=np.int8)
    state = np.full(n, 2, dtype=np.int8)  # moderate
    out = next_state(ability, age, sex, state, rng.random(n))
    freq = np.bincount(out, minlength=N_STATES) / n
    p = ability.monthly[88 - 60, 1, 2]
    se = np.sqrt(p * (1 - p) / n)
    assert (np.abs(freq - p) <= 5 * se + 1e-12).all(), (freq, p)


def test_same_uniform_same_outcome_and_dead_stay_dead(ability):
    age = np.array([70, 70, 95, 95], dtype=np.int16)
    sex = np.array([0, 0, 1, 1], dtype=np.int8)
    state = np.array([0, 0, 4, DEAD], dtype=np.int8)
    u = np.array([0.3, 0.3, 0.999999, 0.999999])
    out = next_state(ability, age, sex, state, u)
    assert out[0] == out[1]
    assert out[3] == DEAD
    assert out[2] == DEAD  # a draw in the top tail from complete loss at 95 is death


def test_ages_beyond_age_max_use_the_last_cell(ability):
    idx = ability.age_index(np.array([59, 60, ability.age_max, ability.age_max + 7]))
    np.testing.assert_array_equal(idx, [0, 0, ability.n_ages - 1, ability.n_ages - 1])


def _packed_people(ability, n, seed):
    from agingsim.ability.transitions import AGE0_M

    rng = np.random.default_rng(seed)
    age_m = rng.integers(AGE0_M, (ability.age_max + 3) * 12, n).astype(np.int16)  # some past age_max
    sex = rng.integers(0, 2, n).astype(np.int8)
    state = rng.integers(0, N_STATES, n).astype(np.int8)
    return age_m, sex, state


@pytest.fixture
def packed(ability):
    """The packed engine's code span for a 240-month run and its sampling tables."""
    from agingsim.ability.transitions import PackedTables, code_span

    span = code_span(ability.age_max, 240)
    return span, PackedTables.build(ability, span)


def test_packed_code_is_the_row_of_age_sex_and_state(ability, packed):
    """Issue 17: the packed code indexes the same sampling-table cell as (age year, sex, state)."""
    from agingsim.ability.transitions import state_code, transition_cells

    span, tables = packed
    age_m, sex, state = _packed_people(ability, 50_000, 3)
    code = state_code(span, age_m, sex, state)
    np.testing.assert_array_equal(tables.cell[code], transition_cells(ability, age_m // 12, sex, state))


def test_packed_transition_equals_the_inverse_cdf_on_the_same_uniforms(ability, packed):
    """month_transition on the ids' 32-bit draws d (RandomStreams.draws) gives exactly next_state's
    states on u = (d + 0.5) / 2**32, dead included (absorbing), so the packed engine samples
    P = expm(Q/12) row by row."""
    from agingsim.ability.transitions import apply_moves, month_transition, state_code

    span, tables = packed
    n = 400_000
    age_m, sex, state = _packed_people(ability, n, 4)
    pids = np.arange(n, dtype=np.int32)
    keys = RandomStreams(5).keys("ability", 3)
    draws = RandomStreams(5).draws("ability", 3, pids)
    state[:2] = DEAD
    expected = next_state(ability, age_m // 12, sex, state, (draws + 0.5) / 2**32)
    code = state_code(span, age_m, sex, state)
    rows, new = month_transition(ability, tables, code, pids, keys)
    assert (new != state[rows]).all() and np.all(np.diff(rows) > 0)
    got = state.copy()
    died = apply_moves(code, got, rows, new, span)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(code, state_code(span, age_m, sex, got))
    np.testing.assert_array_equal(died, np.flatnonzero((got == DEAD) & (state != DEAD)))
    assert got[0] == got[1] == DEAD
    assert 0.01 < len(rows) / n < 0.2  # a few percent move in a month (not none, not all)


def test_fused_kernel_draws_the_same_words_as_rng_hash32():
    """Issue 17: the compiled kernel's per-person 32-bit draw is RandomStreams.draws word for word
    (uint32 products wrap the same way), over ids up to the int32 limit."""
    from agingsim.ability import fused

    s = RandomStreams(11, 2)
    pids = np.concatenate([np.arange(200_000), [2**31 - 1, 2**31 - 2]]).astype(np.int32)
    for month in (0, 7, 239):
        k1, k2 = s.keys("ability", month)
        got = np.empty(len(pids), np.uint32)
        fused.hash_ids(pids, k1, k2, got)
        np.testing.assert_array_equal(got, s.draws("ability", month, pids))


def test_fused_month_equals_the_numpy_engine_bit_for_bit(ability, packed):
    """Issue 17: ability.fused.month_rows gives the numpy engine's month exactly (movers and their
    rows in order with their levels before and after, levels, codes, ages; the dead stay dead and
    do not age), whatever the split of
    rows into chunks (as across threads)."""
    from agingsim.ability import fused
    from agingsim.ability.transitions import apply_moves, month_transition, state_code

    span, tables = packed
    n = 300_000
    age_m, sex, state = _packed_people(ability, n, 5)
    age_m = np.minimum(age_m, (ability.age_max + 1) * 12 - 1).astype(np.int16)
    state[:3] = DEAD
    pids = np.random.default_rng(1).permutation(n).astype(np.int32)
    ref = (state_code(span, age_m, sex, state), state.copy(), age_m.copy())
    for split in ((0, n), (0, 1000, 1001, 123_457, n)):
        code, lvl, age = (x.copy() for x in ref)
        want = (ref[0].copy(), ref[1].copy(), ref[2].copy())
        for month in range(3):
            keys = RandomStreams(5).keys("ability", month)
            rows_ref, new = month_transition(ability, tables, want[0], pids, keys)
            apply_moves(want[0], want[1], rows_ref, new, span)
            alive = want[1] != DEAD
            want[0][:] += alive
            want[2][:] += alive
            buf = np.full(n, -1, np.int64)
            was, now = np.full(n, -1, np.int8), np.full(n, -1, np.int8)
            level_before = lvl.copy()
            got = []
            for a, b in itertools.pairwise(split):
                k = fused.month_rows(
                    a, b, code, lvl, age, pids, keys[0], keys[1],
                    tables.threshold, tables.cell, ability.cumulative, ability.order, span, buf, was, now,
                )  # fmt: skip
                got.append((buf[a : a + k], was[a : a + k], now[a : a + k]))
            np.testing.assert_array_equal(np.concatenate([g[0] for g in got]), rows_ref)
            # each mover's level before and after, as the care stage's counts take them
            np.testing.assert_array_equal(np.concatenate([g[1] for g in got]), level_before[rows_ref])
            np.testing.assert_array_equal(np.concatenate([g[2] for g in got]), new)
            np.testing.assert_array_equal(code, want[0])
            np.testing.assert_array_equal(lvl, want[1])
            np.testing.assert_array_equal(age, want[2])
        assert (lvl[:3] == DEAD).all() and (age[:3] == ref[2][:3]).all()
