"""The care stage's shortcuts give the results of the plain definitions they stand in for, exactly.

Same scenario + seed = identical output: a shortcut that moved a choice or a sum at the last bit
would change outputs, so each is compared with ``==`` against the code it replaces.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from agingsim.choice.mnl import choose, probabilities, utilities
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
def test_the_choice_by_cell_is_the_per_person_logit_bit_for_bit(tiny_behaviour, stay):
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
    u = rng.random(len(idx))
    month = model.month
    per_person = choose(
        probabilities(utilities(care.choice, care._inputs(ci, lv, family, econ, cur, public, month))), u
    )
    by_cell = care._choose_by_cell(ci, lv, p.family[idx], p.econ[idx], cur.astype(np.int8), public, month, u)
    assert by_cell.dtype == per_person.dtype
    assert np.array_equal(by_cell, per_person)
    assert len(np.unique(by_cell)) > 2  # the draws reach several settings
