"""The rule grid (policy/rules.py): people are counted into cells of attribute combinations each month,
and ages are grouped into bands on which every rule is constant, so a band grid must give each person
exactly the answer a grid of single years gives."""

from __future__ import annotations

import numpy as np
import pytest

from agingsim.policy.rules import AXIS_SIZES, RuleGrid, RuleSet

AGE_MAX = 105
RULES = [
    "age >= 80",  # seed 004 三(一)1: 80周岁及以上
    "age > 79.5 and dibao",
    "age == 75 or age < 62",
    "70 <= age <= 89 and alone",  # seed 004 三(一)4: 70周岁及以上 … 独居
    "not age != 100",
    "very_old and ability >= moderate",  # a definition's number counts too
]


def people(n: int = 20_000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    cols = {
        "age_m": rng.integers(60 * 12, 112 * 12, n).astype(np.int16),  # past age_max too
        "ability": rng.integers(0, 6, n).astype(np.int8),
        "econ": rng.integers(0, AXIS_SIZES["econ"], n).astype(np.int8),
        "family": rng.integers(0, AXIS_SIZES["family"], n).astype(np.int8),
    }
    cols["age_m"][:600] = np.arange(60 * 12, 110 * 12)[:600]  # every month of age around the cut points
    return cols


@pytest.mark.parametrize("text", RULES)
def test_age_bands_give_every_person_the_answer_of_single_years(text):
    rules = RuleSet.from_texts({"very_old": "age >= 90"})
    tree = rules.compile(text)
    axes = rules.axes_of(tree) | {"econ", "family"}
    banded = RuleGrid(rules, axes, AGE_MAX, [tree])
    yearly = RuleGrid(rules, axes, AGE_MAX)
    cols = people()
    got = banded.evaluate(tree).astype(bool)[banded.cells(cols)]
    want = yearly.evaluate(tree).astype(bool)[yearly.cells(cols)]
    assert np.array_equal(got, want)
    assert len(banded.age_starts) <= 8 < len(yearly.age_starts)  # the point: far fewer cells


def test_cells_within_county_are_offset_by_the_grid_size():
    rules = RuleSet.from_texts({})
    tree = rules.compile("age >= 80")
    grid = RuleGrid(rules, set(), AGE_MAX, [tree])
    cols = {"age_m": np.array([70 * 12, 85 * 12], dtype=np.int16), "ability": np.array([1, 2], dtype=np.int8)}
    county = np.array([0, 3], dtype=np.int16)
    assert np.array_equal(grid.cells(cols, county=county), grid.cells(cols) + county * grid.size)
