"""Issue 14 item 1: a region's population base table by age × sex (format, validation, interpolation)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from agingsim.errors import ScenarioError
from agingsim.population.base import read_population_table
from agingsim.scenario import load_scenario
from tests.conftest import ROOT

DATA = Path(__file__).parent / "data"
HEADER = "age_lower,age_upper,sex,people,source\n"


def _table(tmp_path: Path, body: str):
    path = tmp_path / "t_population.csv"
    path.write_text(body, encoding="utf-8")
    return read_population_table(path, date(2020, 11, 1), tmp_path / "region.toml", "population_base.file")


def test_base_pchip_split_preserves_every_5_year_group_total():
    table = read_population_table(DATA / "tiny_population.csv", date(2020, 11, 1), DATA, "k")
    assert table.age_min == 40 and table.age_top == 100 and table.open_top
    # group 55-59 of men is 8000 in the file; 60-64 of women 7200; the open 100+ of women 40
    assert table.counts[15:20, 0].sum() == pytest.approx(8000, rel=1e-12)
    assert table.counts[20:25, 1].sum() == pytest.approx(7200, rel=1e-12)
    assert table.counts[-1, 1] == 40
    assert (table.counts >= 0).all()
    # a monotone spline: within 70-74 (4500 men) to 75-79 (3000) single years fall
    assert np.all(np.diff(table.counts[30:40, 0]) < 0)
    assert table.people(60) == pytest.approx(
        sum([7000, 6000, 4500, 3000, 2000, 1000, 400, 100, 20])
        + sum([7200, 6300, 4900, 3500, 2600, 1400, 600, 180, 40])
    )


def test_base_single_year_rows_pass_through_unchanged(tmp_path):
    rows = "".join(f"{a},{a},{s},{1000 + a},census\n" for s in "MF" for a in range(40, 100))
    rows += "100,,M,5,census\n100,,F,9,census\n"
    table = _table(tmp_path, HEADER + rows)
    assert table.counts[:60, 0] == pytest.approx(1000 + np.arange(40, 100))
    assert table.counts[-1].tolist() == [5, 9]


def test_region_with_population_base_takes_its_60plus_from_the_table():
    sc = load_scenario(DATA / "tiny_base.toml")
    assert sc.region.entry is None
    assert sc.population_base is not None
    assert sc.region.pop_60plus == pytest.approx(sc.population_base.people(60))
    assert "tests/data/tiny_population.csv" in sc.population_files


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        (HEADER + "40,44,M,nan,census\n", "row 2, column people", "finite"),
        (HEADER + "40,44,M,inf,census\n", "row 2, column people", "finite"),
        (HEADER + "40,44,M,-5,census\n", "row 2, column people", "≥ 0"),
        (HEADER + "40,44,M,lots,census\n", "row 2, column people", "not a number"),
        (HEADER + "40,44,X,5,census\n", "row 2, column sex", "M or F"),
        (HEADER + "40,38,M,5,census\n", "row 2, column age_upper", "≥ age_lower"),
        (HEADER + "40.5,44,M,5,census\n", "row 2, column age_lower", "whole age"),
        (HEADER + "40,44,M,5,\n", "row 2, column source", "needs a source"),
        (
            HEADER + "40,44,M,5,c\n45,,M,5,c\n40,44,F,5,c\n46,,F,5,c\n",
            "row 5, column age_lower",
            "45–45 missing",
        ),
        (HEADER + "40,44,M,5,c\n44,,M,5,c\n40,44,F,5,c\n45,,F,5,c\n", "row 3, column age_lower", "overlaps"),
        (HEADER + "40,,M,5,c\n45,,M,5,c\n40,,F,5,c\n", "row 2, column age_upper", "only the last group"),
        (HEADER + "45,,M,5,c\n40,,F,5,c\n", "row 2, column age_lower", "40+"),
        (HEADER + "40,,M,5,c\n", "column sex", "no rows for sex F"),
        (HEADER + "40,,M,5,c\n40,99,F,5,c\n", "row 3, column age_upper", "same for M and F"),
        ("age,sex,people\n40,M,5\n", "row 1", "missing column(s) age_lower, age_upper, source"),
    ],
)
def test_base_table_errors_name_row_column_and_problem(tmp_path, body, key, problem):
    with pytest.raises(ScenarioError) as err:
        _table(tmp_path, body)
    text = str(err.value)
    assert f"t_population.csv: {key}: " in text, text
    assert problem in text, text


def _base_region(tmp_path: Path, old: str, new: str) -> Path:
    for name in ("tiny_base.toml", "tiny_base_region.toml", "tiny_margins.toml", "tiny_population.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    root = Path(__file__).resolve().parents[1]
    for name in ("tiny_base.toml", "tiny_base_region.toml"):
        p = tmp_path / name
        p.write_text(p.read_text(encoding="utf-8").replace("../../", f"{root}/"), encoding="utf-8")
    region = tmp_path / "tiny_base_region.toml"
    text = region.read_text(encoding="utf-8")
    assert old in text
    region.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path / "tiny_base.toml"


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ('file = "tiny_population.csv"', 'file = "nowhere.csv"', "population_base.file", "not found"),
        ("[population_base]", "pop_60plus = 1000\n[population_base]", "pop_60plus", "differs from"),
        (
            "[population_base]",
            "[entry]\nbase_year = 2024\nentrants_per_year = 1\nannual_growth = 0\n"
            "male_share = 0.5\n[population_base]",
            "(top level)",
            "not both",
        ),
        ("reference_date = 2020-11-01", 'reference_date = "soon"', "population_base.reference_date", "date"),
    ],
)
def test_region_population_base_errors(tmp_path, old, new, key, problem):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_base_region(tmp_path, old, new))
    assert f": {key}: " in str(err.value) and problem in str(err.value), str(err.value)


def test_one_split_of_many_tables_gives_each_table_its_own_split():
    """Issue 17: the projection's years × sexes are split in one interpolant; every column must be
    exactly (bit for bit) what splitting it alone gives, so outputs do not move."""
    from agingsim.population.base import single_years

    rng = np.random.default_rng(3)
    people = rng.uniform(0, 1e6, size=(21, 6))  # 5-year groups 0-4 … 95-99 and an open 100+
    people[4, 2] = 0.0  # an empty group: a flat stretch of the cumulative count
    lows = list(range(0, 105, 5))
    rows = [(lo, lo + 4, people[i], 0) for i, lo in enumerate(lows[:-1])] + [(100, None, people[-1], 0)]
    many = single_years(rows, 0, 100, open_top=True)
    assert many.shape == (101, 6)
    for j in range(6):
        alone = [(lo, hi, float(p[j]), r) for lo, hi, p, r in rows]
        assert many[:, j].tobytes() == single_years(alone, 0, 100, open_top=True).tobytes()


def test_population_base_block_source_reaches_assumptions_csv(tmp_path):
    """Issue 14 leftover: a region's [population_base] source labels a table file and a date, no
    figure, so it never reached a run's assumptions.csv; the run's provenance must carry it."""
    import pandas as pd

    from agingsim.scenario.files import read_toml
    from agingsim.simulate import run_scenario

    scenario = load_scenario(ROOT / "scenarios" / "validation" / "china_2020.toml").with_run(
        years=1, simulated_people=500
    )
    run_scenario(scenario).files()["assumptions.csv"](tmp_path / "assumptions.csv")
    rows = pd.read_csv(tmp_path / "assumptions.csv")
    row = rows[(rows["file"] == "calibration/regions/china.toml") & (rows["key"] == "population_base")]
    block = read_toml(ROOT / "calibration" / "regions" / "china.toml")["population_base"]
    assert len(row) == 1
    assert row["provenance"].iloc[0] == "source" and row["text"].iloc[0] == block["source"].strip()
    assert "china_population.csv" in row["value"].iloc[0] and "2020-11-01" in row["value"].iloc[0]
