"""Issue 17: the monthly scheme bookkeeping's shortcuts give the same keys as the rules' grid.

PersonSchemes.row_keys reads age band and ability from the packed state code (one lookup) and
OneOffSchemes.rows picks candidate rows by key; both must agree with RuleGrid.cells, computed from
the people's own age, ability and care setting, in every month of a run (ageing, deaths, entrants,
care-setting changes and the yearly compaction included).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agingsim.model import AgingModel
from agingsim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def grid_keys(model: AgingModel) -> np.ndarray:
    ps, p = model.person_schemes, model.people
    cols = {f: getattr(p, f) for f in ps.grid.people_fields()}
    return ps.grid.cells(cols, p.county)


@pytest.mark.parametrize("name", ["zhumadian_basic_services", "yuquan_home_services"])
def test_row_keys_by_packed_code_equal_the_grid_cells_every_month(name):
    scenario = load_scenario(SCENARIOS / f"{name}.toml").with_run(simulated_people=4000, years=2)
    model = AgingModel(scenario)
    ps = model.person_schemes
    assert ps is not None and ps._by_code is not None
    if name == "yuquan_home_services":  # a scenario whose rules read the care setting
        assert ps.grid.stride("care_setting") > 0
    while model.running:
        model.step()
        if model.month >= model.n_months:
            break
        key, weight = ps.row_keys(model.people)
        assert np.array_equal(key, grid_keys(model))
        assert np.array_equal(weight, model.people.weight)


def test_one_off_rows_are_the_candidate_rows_of_the_month():
    scenario = load_scenario(SCENARIOS / "zhumadian_basic_services.toml").with_run(
        simulated_people=4000, years=1
    )
    model = AgingModel(scenario)
    assert model.one_off
    for _ in range(3):
        model.step()
    ps, p = model.person_schemes, model.people
    ps.count(p)
    (pid, county, cell, weight), _ = model.one_off.rows(p, counted=True)
    key = grid_keys(model)
    size = ps.grid.size
    live = np.flatnonzero(model.one_off.candidate_cells[key % size])
    assert len(live) > 0
    assert np.array_equal(pid, p.pid[live])
    assert np.array_equal(county, key[live] // size)
    assert np.array_equal(cell, key[live] % size)
    assert np.array_equal(weight, p.weight[live])


@pytest.mark.parametrize("name", ["zhumadian_basic_services", "yuquan_home_services"])
def test_compiled_count_gives_numpys_keys_and_bins_bit_for_bit(name):
    """Issue 17: large runs bin the month with schemes.fused.bin_keys; its keys, occupied bins and
    their people, and the one-off candidate rows, must be numpy's (``row_keys``, a weighted
    ``bincount``, OneOffSchemes' own pick) exactly, every month."""
    from agingsim.schemes import fused

    scenario = load_scenario(SCENARIOS / f"{name}.toml").with_run(simulated_people=4000, years=2)
    model = AgingModel(scenario)
    ps = model.person_schemes
    assert ps is not None and ps.fused is None  # a small run: numpy
    while model.running and model.month < model.n_months - 1:
        model.step()
        ps.fused = fused
        occupied, weight = ps.count(model.people)
        key = ps.month_keys[0].copy()
        once = ps.month_once.copy()
        ps.fused = None
        occupied_np, weight_np = ps.count(model.people)
        assert ps.month_once is None
        assert np.array_equal(key, ps.month_keys[0])
        if model.one_off:  # the one-off candidates listed as it goes are the numpy ones
            assert np.array_equal(once, np.flatnonzero(model.one_off._candidate_keys[key]))
        else:
            assert once.size == 0
        assert occupied.tobytes() == occupied_np.tobytes()
        assert weight.tobytes() == weight_np.tobytes()


def test_fixed_parts_move_with_the_rows_at_each_compaction():
    """PersonSchemes.moving_rows: the rows' fixed parts and weights move with the rows at each
    yearly compaction (People.compact's ``also``), so they stay in step with the rows, not worked
    out again, and still equal what a fresh computation gives."""
    scenario = load_scenario(SCENARIOS / "zhumadian_basic_services.toml").with_run(
        simulated_people=4000, years=3
    )
    model = AgingModel(scenario)
    ps, checked = model.person_schemes, []
    new_year = model._new_year

    def check() -> None:
        new_year()
        p = model.people
        if model.month:
            assert ps._seen == p.n and ps._layout == p.layout, model.month  # moved, in step
            cols = {f: getattr(p, f) for f in ps.grid.people_fields()}
            assert np.array_equal(ps._fixed[: p.n], ps.grid.fixed_cells(cols, p.county))
            assert np.array_equal(ps._weight[: p.n], p.weight)
            checked.append(model.month)

    model._new_year = check  # type: ignore[method-assign]
    model.run()
    assert checked == [12, 24]
