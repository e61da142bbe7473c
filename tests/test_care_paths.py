"""The care stage's shortcuts give the results of the plain definitions they stand in for, exactly.

Same scenario + seed = identical output: a shortcut that moved a choice or a sum at the last bit
would change outputs, so each is compared with ``==`` against the code it replaces.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from agingsim.choice.mnl import choose, choose_cumulative, cumulative, probabilities, utilities
from agingsim.model import AgingModel
from agingsim.population.people import FIELDS
from agingsim.scenario import load_scenario
from agingsim.services.admission import FixedCells
from agingsim.services.care_system import compile_priority
from tests.test_behaviour import BEHAVIOUR, behaviour_file


@pytest.fixture
def tiny_behaviour(tiny_copy):
    tiny_copy("tiny.toml", 'ability_model = "', f'behaviour = "{BEHAVIOUR}"\nability_model = "')
    return tiny_copy


def _random_columns(fields: list[str], n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    highs = {"age_m": 105 * 12, "ability": 6, "econ": 5, "family": 4, "flags": 256, "care_setting": 5}
    return {f: rng.integers(60 * 12 if f == "age_m" else 0, highs[f], n).astype(FIELDS[f]) for f in fields}


def test_fixed_cells_from_the_table_are_the_grids_own_cells():
    grid, _, _ = compile_priority(behaviour_file(), {}, 105, "x")
    lookup = FixedCells(grid)
    assert lookup.lut is not None  # the admission list's fixed fields fit a table
    cols = _random_columns(lookup.fields, 50_000, np.random.default_rng(3))
    assert np.array_equal(lookup.cells(cols), grid.cells(cols))


@pytest.mark.parametrize("stay", [0.0, 0.7])
@pytest.mark.parametrize("distance", [False, True])
def test_the_choice_by_cell_is_the_per_person_logit_bit_for_bit(tiny_behaviour, stay, distance):
    """Numpy and compiled (services.choice_kernels) alike."""
    from agingsim.services import kernels

    model = AgingModel(load_scenario(tiny_behaviour.scenario))
    for _ in range(14):  # queues, waits and carer gaps of a running model
        model.step()
    care, p = model.care, model.people
    care.choice = replace(care.choice, stay=stay)
    rng = np.random.default_rng(5)
    idx = np.sort(rng.choice(p.n, min(p.n, 4000), replace=False))
    lv = rng.integers(0, 5, len(idx))
    ci = p.county[idx].astype(np.int64)
    family, econ = p.family[idx].astype(np.int64), p.econ[idx].astype(np.int64)
    cur = rng.integers(0, 5, len(idx))
    public = rng.random(len(idx)) < 0.5
    care.expected_wait = rng.random(care.n_c) * 10
    care.delivered[:] = rng.random((care.n_c, 1))
    if distance:
        care.distance_km = rng.random((3, care.n_c)) * 4
    u = rng.random(len(idx))
    month = model.month
    inputs = care._inputs(ci, lv, family, econ, cur, public, month)
    per_person = choose(probabilities(utilities(care.choice, inputs)), u)
    by_cell = care._choose_by_cell(ci, lv, p.family[idx], p.econ[idx], cur.astype(np.int8), public, month, u)
    assert by_cell.dtype == per_person.dtype
    assert np.array_equal(by_cell, per_person)
    assert len(np.unique(by_cell)) > 2  # the draws reach several settings
    care.kernels = kernels  # the gather's dtypes: county int16, level int8
    lv8, ci16 = lv.astype(np.int8), ci.astype(np.int16)
    compiled = care._choose_by_cell(
        ci16, lv8, p.family[idx], p.econ[idx], cur.astype(np.int8), public, month, u
    )
    assert compiled.dtype == per_person.dtype
    assert np.array_equal(compiled, per_person)
    # uniforms on the running sums themselves, and a bit below: a sum off by its last bit moves a choice
    cum = cumulative(probabilities(utilities(care.choice, inputs)))
    at = cum[rng.integers(0, 4, len(idx)), np.arange(len(idx))]
    for u in (at, np.nextafter(at, -np.inf)):
        got = care._choose_by_cell(
            ci16, lv8, p.family[idx], p.econ[idx], cur.astype(np.int8), public, month, u
        )
        assert np.array_equal(got, choose_cumulative(cum, u))


def _run(scenario_path, compiled: bool, monkeypatch) -> tuple[dict, dict]:
    from agingsim.services import care_system, kernels

    monkeypatch.setattr(care_system, "compiled_kernels", lambda model: kernels if compiled else None)
    model = AgingModel(load_scenario(scenario_path))
    assert (model.care.kernels is not None) == compiled
    model.run()
    p = model.people
    people = {f: getattr(p, f).copy() for f in ("care_setting", "provider", "wait_since", "ability")}
    return model.care.frames(), people


def test_packed_columns_moved_with_the_compaction_are_the_rows_own(tiny_behaviour, monkeypatch):
    """CareSystem.moving_rows: the packed words travel with the rows at each yearly compaction
    instead of being rebuilt, and must still be each row's own (id, county, family, status, flags)
    every January, entrants included."""
    from agingsim.services import care_system, kernels

    monkeypatch.setattr(care_system, "compiled_kernels", lambda model: kernels)
    model = AgingModel(load_scenario(tiny_behaviour.scenario).with_run(years=3))
    care, checked = model.care, []
    new_year = care.new_year

    def check(sim_month: int) -> None:
        new_year(sim_month)
        p = model.people
        if sim_month:
            ref = np.zeros(p.n, np.uint64)
            kernels.pack_rows(ref, 0, p.n, p.pid, p.county, p.family, p.econ, p.flags)
            assert care._packed_n == p.n and np.array_equal(care._packed[: p.n], ref), sim_month
            checked.append(sim_month)

    monkeypatch.setattr(care, "new_year", check)
    model.run()
    assert checked == [12, 24]  # both Januaries after a compaction checked


def test_a_run_with_the_compiled_loops_is_the_numpy_run_exactly(tiny_behaviour, monkeypatch):
    """Same scenario + seed = identical output, whether or not the run loads numba."""
    frames_np, people_np = _run(tiny_behaviour.scenario, False, monkeypatch)
    frames_nb, people_nb = _run(tiny_behaviour.scenario, True, monkeypatch)
    for name, frame in frames_np.items():
        assert frame.equals(frames_nb[name]), name
    for field, values in people_np.items():
        assert np.array_equal(values, people_nb[field]), field
    assert frames_np["waiting"]["admissions"].sum() > 0  # the admission loop was exercised


def test_compiled_first_fit_places_the_people_the_python_loop_places():
    from agingsim.services import kernels
    from agingsim.services.admission import admit

    rng = np.random.default_rng(11)
    for trial in range(40):
        n, n_c = int(rng.integers(1, 400)), int(rng.integers(1, 5))
        n_k = 3 * n_c
        weight = rng.uniform(3, 12, n)
        county = rng.integers(0, n_c, n)
        prio = rng.integers(0, 4, n).astype(np.int8)
        since = rng.integers(0, 30, n).astype(np.int16)
        pid = rng.permutation(n).astype(np.int32)
        public = [[3 * c, 3 * c + 1] for c in range(n_c)]
        private = [[3 * c + 2] if trial % 3 else [] for c in range(n_c)]
        free = rng.uniform(0, 8 * n / n_c, n_k) * (rng.random(n_k) < 0.8)
        tie = rng.integers(0, 2, n).astype(np.int8) if trial % 2 else None
        args = (weight, county, prio, since, pid, public, private, free, tie)
        got_py, where_py = admit(*args)
        got_nb, where_nb = admit(*args, kernels=kernels)
        assert np.array_equal(got_py, got_nb) and np.array_equal(where_py, where_nb)


def test_compiled_uniforms_are_the_streams_own_numbers():
    """Common random numbers: a reviewer draws the same uniform with or without numba."""
    from agingsim.rng import RandomStreams
    from agingsim.services import kernels

    streams = RandomStreams(20251123)
    pids = np.random.default_rng(2).choice(2**31 - 1, 20_000).astype(np.int32)
    key = streams.seed_sequence("care_choice", 7).generate_state(1, dtype=np.uint64)[0]
    assert np.array_equal(kernels.sparse_uniforms(pids, key), streams.sparse_uniforms("care_choice", 7, pids))


def _stable_split(rows: np.ndarray, pid: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    res = pid[rows] % period
    order = np.argsort(res, kind="stable")
    return rows[order], np.searchsorted(res[order], np.arange(period + 1))


def test_compiled_split_of_the_moved_and_the_entrants_keeps_the_stable_order():
    from agingsim.services import kernels

    rng = np.random.default_rng(4)
    pid = rng.permutation(100_000).astype(np.int32)
    moved = np.sort(rng.choice(90_000, 30_000, replace=False))
    for first, stop in ((0, 0), (90_000, 90_000), (90_000, 100_000)):
        extra = np.arange(first, stop)
        out, bounds = kernels.split_known(moved, pid[moved].astype(np.int64) % 12, extra, pid, 12)
        ref, ref_bounds = _stable_split(np.concatenate([moved, np.arange(first, stop)]), pid, 12)
        assert np.array_equal(out, ref) and np.array_equal(bounds, ref_bounds)


@pytest.mark.parametrize("n_chunks", [1, 2, 3])
def test_compiled_january_is_the_rows_not_idle_by_residue_whatever_the_chunks(n_chunks):
    """The rota, queue, holders and packed columns of January are the same for any thread count."""
    from agingsim.services import kernels

    rng = np.random.default_rng(8)
    n = 50_000
    ability = (rng.random(n) < 0.3).astype(np.int8) * rng.integers(1, 6, n).astype(np.int8)
    setting = (rng.random(n) < 0.1).astype(np.int8) * rng.integers(1, 5, n).astype(np.int8)
    waiting = np.where(rng.random(n) < 0.02, 3, -1).astype(np.int16)
    provider = np.where(rng.random(n) < 0.05, 7, -1).astype(np.int16)
    pid = rng.permutation(n).astype(np.int32)
    county = rng.integers(0, 300, n).astype(np.int16)
    family, econ = rng.integers(0, 4, n).astype(np.int8), rng.integers(0, 5, n).astype(np.int8)
    flags = rng.integers(0, 256, n).astype(np.uint8)
    packed = np.zeros(n, np.uint64)
    bufs = [np.empty(n, np.int64) for _ in range(4)]
    edges = np.linspace(0, n, n_chunks + 1).astype(int)
    got: list[list[np.ndarray]] = [[], [], [], []]
    for lo, hi in itertools.pairwise(edges):
        found = kernels.january_chunk(
            int(lo), int(hi), 0, packed, ability, setting, waiting, provider, pid, county, family, econ,
            flags, 12, 0, *bufs,
        )  # fmt: skip
        for j, k in enumerate((found[0], found[0], found[1], found[2])):
            got[j].append(bufs[j][lo : lo + k])
    sel, res, queue, holders = (np.concatenate(g) for g in got)
    out, bounds = kernels.by_residue(sel, res, 12)
    ref, ref_bounds = _stable_split(np.flatnonzero((ability != 0) | (setting != 0) | (waiting >= 0)), pid, 12)
    assert len(ref) < n and np.array_equal(out, ref) and np.array_equal(bounds, ref_bounds)
    assert np.array_equal(queue, np.flatnonzero(waiting >= 0))
    assert np.array_equal(holders, np.flatnonzero(provider >= 0))
    # the packed word gives back every column it holds
    assert np.array_equal((packed & 0xFFFFFFFF).astype(np.int64), pid.astype(np.int64))
    assert np.array_equal(((packed >> 32) & 0xFFFF).astype(np.int16), county)
    assert np.array_equal(((packed >> 48) & 15).astype(np.int8), family)
    assert np.array_equal(((packed >> 52) & 15).astype(np.int8), econ)
    assert np.array_equal((packed >> 56).astype(np.uint8), flags)


def test_compiled_marks_give_the_sorted_union_of_the_runs_filtered():
    """kernels.gather_marked: every candidate once in row order, the idle and dead dropped, their
    columns as the arrays hold them and their priority group, and the bitmap left clear for next
    month."""
    from agingsim.services import kernels
    from agingsim.services.care_system import _union_rows

    rng = np.random.default_rng(9)
    n, dead, family_care = 5_000, 5, 4
    ability = rng.choice(np.array([0, 0, 0, 1, 3, 5], np.int8), n)
    setting = rng.choice(np.array([4, 4, 4, 0, 3], np.int8), n)
    waiting = np.where(rng.random(n) < 0.05, 2, -1).astype(np.int16)
    age = rng.integers(720, 1260, n).astype(np.int16)
    pid = rng.permutation(n).astype(np.int32)
    county = rng.integers(0, 30, n).astype(np.int16)
    family, econ = rng.integers(0, 4, n).astype(np.int8), rng.integers(0, 5, n).astype(np.int8)
    flags = rng.integers(0, 256, n).astype(np.uint8)
    packed = np.zeros(n, np.uint64)
    kernels.pack_rows(packed, 0, n, pid, county, family, econ, flags)
    bits = np.zeros(-(-n // 64), np.uint64)
    grid, group_of_cell, _ = compile_priority(behaviour_file(), {}, 105, "x")
    lookup = FixedCells(grid)
    tables = lookup.packed_tables()  # the priority group from the packed word (FixedCells.cells')
    assert tables is not None
    for k in (1, 2, 3, 7, 16):
        runs = [np.sort(rng.choice(n, int(rng.integers(0, 900)), replace=False)) for _ in range(k)]
        rows = _union_rows(*runs)
        keep = (ability[rows] != dead) & (
            (ability[rows] > 0) | (setting[rows] != family_care) | (waiting[rows] >= 0)
        )
        ref = rows[keep]
        got = kernels.gather_marked(
            np.concatenate(runs).astype(np.int64),
            bits,
            ability,
            setting,
            waiting,
            packed,
            age,
            dead,
            family_care,
            *tables,
            group_of_cell,
        )
        assert not bits.any()
        cols = (ability, setting, waiting >= 0, county, family, econ, age, flags, pid)
        assert np.array_equal(got[0], ref)
        for value, col in zip(got[1:-1], cols, strict=True):
            assert value.dtype == col.dtype and np.array_equal(value, col[ref])
        fields = {"age_m": age, "ability": ability, "econ": econ, "family": family, "flags": flags}
        cells = lookup.cells({f: fields[f][ref] for f in lookup.fields})
        assert got[-1].dtype == group_of_cell.dtype and np.array_equal(got[-1], group_of_cell[cells])


def test_compiled_count_moves_pass_on_only_the_moved_rows_that_may_review():
    """kernels.shift_moved (issue 17): the counts move from each row's level before the month to its
    level after (as the transition found them), the dead are found, and of the moved rows only those passing the reviewers' filter (alive, and not
    idle at home: gather_marked's) go on to the month's reviewers and the rota, with their ids'
    residues; the rows dropped could only join them again by another change of level."""
    from agingsim.services import kernels

    rng = np.random.default_rng(12)
    n, dead, family_care, n_s, n_l, period = 4_000, 5, 4, 5, 6, 12
    ability = rng.choice(np.array([0, 0, 1, 2, 5], np.int8), n)
    was = rng.choice(np.array([0, 1, 2, 3], np.int8), n)
    setting = rng.choice(np.array([4, 4, 4, 0, 3], np.int8), n)
    waiting = np.where(rng.random(n) < 0.05, 2, -1).astype(np.int16)
    pid = rng.permutation(n).astype(np.int32)
    county = rng.integers(0, 3, n).astype(np.int16)
    weight = rng.uniform(1, 9, n).astype(np.float32)
    small = np.zeros(n, np.int8)
    packed = np.zeros(n, np.uint64)
    kernels.pack_rows(packed, 0, n, pid, county, small, small, np.zeros(n, np.uint8))
    rows = np.sort(rng.choice(n, 1_500, replace=False))
    cells, ref = np.zeros(3 * n_s * n_l), np.zeros(3 * n_s * n_l)
    lv = ability[rows]
    died, may, res = kernels.shift_moved(
        rows, was[rows], lv, packed, setting, weight, waiting, n_s, n_l, cells, dead, family_care, period
    )
    keep = (lv != dead) & ((lv > 0) | (setting[rows] != family_care) | (waiting[rows] >= 0))
    assert np.array_equal(died, rows[lv == dead]) and np.array_equal(may, rows[keep])
    assert 0 < len(may) < len(rows) and np.array_equal(res, pid[may] % period)
    base = county[rows].astype(np.int64) * n_s + setting[rows]
    np.add.at(ref, base * n_l + was[rows], -weight[rows].astype(np.float64))
    np.add.at(ref, base * n_l + lv, weight[rows].astype(np.float64))
    np.testing.assert_allclose(cells, ref, atol=1e-9)


@pytest.mark.parametrize("period", [1, 2, 3, 7, 12, 13, 24])
def test_compiled_january_residues_are_the_ids_modulo_the_period(period):
    """kernels.january_chunk's residues without a division: exact over the whole range of ids."""
    from agingsim.services import kernels

    top = np.iinfo(np.int32).max
    near = np.arange(-3, 4)
    edges = np.concatenate([np.arange(0, 100), *(k * period + near for k in (1, 10**6, top // period))])
    pid = np.concatenate([edges[(edges >= 0) & (edges <= top)], [top, top - 1]]).astype(np.int32)
    pid = np.concatenate([pid, np.random.default_rng(2).integers(0, top, 100_000, dtype=np.int32)])
    n = len(pid)
    one, none = np.ones(n, np.int8), np.full(n, -1, np.int16)
    bufs = [np.empty(n, np.int64) for _ in range(4)]
    zeros8, zeros16 = np.zeros(n, np.int8), np.zeros(n, np.int16)
    m, _, _ = kernels.january_chunk(
        0, n, 0, np.zeros(n, np.uint64), one, zeros8, none, none, pid, zeros16, zeros8, zeros8,
        np.zeros(n, np.uint8), period, 4, *bufs,
    )  # fmt: skip
    assert m == n
    assert np.array_equal(bufs[1][:n], pid.astype(np.int64) % period)


def test_compiled_day_care_places_are_admits_first_fit():
    """kernels.day_care_places: the places services.admission.admit gives without public beds,
    priorities or waits, written to the rows and the occupancy alike, and the new holders."""
    from agingsim.services import kernels
    from agingsim.services.admission import admit

    rng = np.random.default_rng(11)
    n, n_c = 20_000, 6
    county = rng.integers(0, n_c, n).astype(np.int16)
    pid = rng.permutation(n).astype(np.int32)
    weight = rng.uniform(5, 9, n).astype(np.float32)
    providers = [[0, 1], [], [2], [3, 4, 5], [6], [7]]
    ptr = np.cumsum([0, *map(len, providers)]).astype(np.int64)
    flat = np.array([k for ks in providers for k in ks], dtype=np.int64)
    for trial in range(5):
        idx = np.sort(rng.choice(n, 3_000, replace=False))
        cur = rng.integers(0, 5, len(idx)).astype(np.int8)
        want = idx[rng.random(len(idx)) < 0.3]
        beds = rng.uniform(0, 400 * trial, 8)
        occupied = beds * rng.uniform(0.5, 1.0, 8)
        arrays = {
            "provider": np.full(n, -1, np.int16), "setting": rng.integers(0, 5, n).astype(np.int8),
            "occupied": occupied.copy(),
        }  # fmt: skip
        ref = {k: v.copy() for k, v in arrays.items()}
        got, where = admit(
            weight[want].astype(np.float64), county[want].astype(np.int64), np.zeros(len(want), np.int8),
            np.zeros(len(want)), pid[want], [[] for _ in providers], providers, beds - occupied,
            kernels=kernels,
        )  # fmt: skip
        placed = want[got]
        ref["provider"][placed], ref["setting"][placed] = where, 3
        np.add.at(ref["occupied"], where, weight[placed])
        new = placed[cur[np.searchsorted(idx, placed)] != 0]
        out = kernels.day_care_places(
            want, idx, cur, weight, county, pid, arrays["provider"], arrays["setting"], arrays["occupied"],
            beds, ptr, flat, 0, 3,
        )  # fmt: skip
        assert np.array_equal(out, new)
        for k in arrays:
            assert np.array_equal(arrays[k], ref[k]), k
        if trial:
            assert 0 < len(placed) < len(want)  # places run out in some counties


def test_compiled_bed_admissions_are_the_numpy_admissions(tiny_behaviour):
    """kernels.admit_beds (Admitting._admit_all compiled): the same people admitted to the same
    beds, the same rows written and every sum the same, with beds short in some counties."""
    from agingsim.services import kernels

    model = AgingModel(load_scenario(tiny_behaviour.scenario))
    for _ in range(14):
        model.step()
    care, p = model.care, model.people
    rng = np.random.default_rng(12)
    alive = np.flatnonzero(p.ability[: p.n] < 5)
    queue = np.sort(rng.choice(alive, min(len(alive), 3_000), replace=False))
    p.wait_since[queue] = rng.integers(0, model.month, len(queue))
    prio = care._priority(queue)
    year = care._year()
    fields = ("provider", "care_setting", "wait_since")
    start = {f: getattr(p, f).copy() for f in fields}
    results = []
    for compiled in (False, True):
        for f in fields:
            getattr(p, f)[:] = start[f]
        care.kernels = kernels if compiled else None
        care._beds = care._occ + rng.uniform(0, 40, len(care._occ)) if not compiled else care._beds
        occupied = care._occ.copy()
        year.admissions[:] = year.wait_sum[:] = 0
        care._ctx = {"queue": queue, "priority": prio, "occupied": occupied}
        care._admit_all()
        results.append(
            {
                **{f: getattr(p, f).copy() for f in fields},
                "occupied": occupied,
                "admissions": year.admissions.copy(),
                "wait_sum": year.wait_sum.copy(),
                "expected": care.expected_wait.copy(),
                "new": care._ctx["new_holders"],
                "still": np.array([m.value for m in care.office.waiting]),
            }
        )
    numpy_run, compiled_run = results
    for key, value in numpy_run.items():
        assert value.dtype == compiled_run[key].dtype and np.array_equal(value, compiled_run[key]), key
    admitted = (numpy_run["wait_since"] < 0) & (start["wait_since"] >= 0)
    assert 0 < admitted[queue].sum() < len(queue)  # beds ran short


def test_compiled_bed_admissions_rank_each_countys_homes_by_occupancy():
    """kernels.admit_beds against services.admission.admit with the providers sorted as
    Admitting._admit_all sorts them (emptiest first, ties in list order), several per county."""
    from agingsim.services import kernels
    from agingsim.services.admission import admit
    from agingsim.services.care_system import _flat

    rng = np.random.default_rng(13)
    n, n_c = 30_000, 5
    county = rng.integers(0, n_c, n).astype(np.int16)
    pid = rng.permutation(n).astype(np.int32)
    weight = rng.uniform(5, 9, n).astype(np.float32)
    public = [[0, 1, 2], [3], [], [4, 5], [6, 7, 8, 9]]
    private = [[10, 11], [12, 13, 14], [15], [], [16, 17]]
    for trial in range(6):
        queue = np.sort(rng.choice(n, 2_000, replace=False))
        prio = rng.integers(0, 4, len(queue)).astype(np.int8)
        wait_since = np.full(n, -1, np.int16)
        wait_since[queue] = rng.integers(0, 30, len(queue))
        beds = rng.uniform(0, 300, 18).round(0 if trial % 2 else 3)
        beds[rng.random(18) < 0.1] = 0.0
        occupied = beds * rng.choice([0.5, 0.75, 1.0], 18)  # equal occupancies: ties in list order
        provider = np.where(rng.random(n) < 0.1, 3, -1).astype(np.int16)
        setting = rng.integers(0, 5, n).astype(np.int8)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(beds > 0, occupied / beds, np.inf)
        c64, w64 = county[queue].astype(np.int64), weight[queue].astype(np.float64)
        got, where = admit(
            w64, c64, prio, wait_since[queue], pid[queue], [sorted(ks, key=lambda k: ratio[k]) for ks in public],
            [sorted(ks, key=lambda k: ratio[k]) for ks in private], beds - occupied, kernels=kernels,
        )  # fmt: skip
        ws, pids = wait_since[queue], pid[queue]
        out = kernels.admit_beds(
            queue, prio, np.lexsort((pids, ws, prio, county[queue])), np.lexsort((pids, ws, county[queue])),
            county, weight, wait_since.copy(), provider.copy(), setting.copy(), occupied.copy(), beds,
            *_flat(public), *_flat(private), 40, 0, np.zeros((n_c, 4)), np.zeros((n_c, 4)),
        )  # fmt: skip
        assert np.array_equal(out[2], got)
        ref_occ = occupied.copy()
        np.add.at(ref_occ, where, w64[got])
        assert np.array_equal(out[1], np.bincount(c64[got], weights=w64[got], minlength=n_c))
        assert np.array_equal(out[0], np.bincount(c64, weights=w64, minlength=n_c))
        assert np.array_equal(out[5], queue[got][provider[queue[got]] < 0])
        assert 0 < len(got) < len(queue)
