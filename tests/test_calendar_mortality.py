"""Issue 14 item 2: death rates change with calendar time (WPP 2024 path, fixed period or a stated
improvement), split by ability level so the population dies at the year's life-table rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agingsim.ability import build_ability_model
from agingsim.ability.intensities import ability_prevalence
from agingsim.errors import ScenarioError
from agingsim.population.attributes import DEAD
from agingsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
CHINA = ROOT / "scenarios" / "validation" / "china_2020.toml"
MX = pd.read_csv(ROOT / "calibration" / "data" / "wpp2024_china_mx5_by_year.csv")


def wpp(period: str, sex: str, age: int) -> float:
    row = MX[(MX["period"] == period) & (MX["sex"] == sex) & (MX["age"].astype(str) == str(age))]
    return float(row["mx"].iloc[0])


def all_cause(model, age: int, sex: int) -> float:
    """Σ_level mix(level | age, sex) × death intensity(level): the rate the expected mix dies at."""
    return float((model.mix[age - 60, sex] * model.intensities[age - 60, sex, :DEAD, DEAD]).sum())


@pytest.fixture(scope="module")
def china():
    scenario = load_scenario(CHINA)
    return scenario, build_ability_model(scenario)


def test_wpp_path_is_log_linear_between_period_mid_years(china):
    """Men aged 72 (the 70-74 group's midpoint 72.5) in 2021: log-linear between the 2015-2020
    (mid 2017.5) and 2020-2025 (mid 2022.5) rates at 2021.5, i.e. 4/5 of the way."""
    _, model = china
    lo, hi = wpp("2015-2020", "M", 70), wpp("2020-2025", "M", 70)
    expected = np.exp(np.log(lo) + 0.8 * (np.log(hi) - np.log(lo)))
    assert all_cause(model.for_year(2021), 72, 0) == pytest.approx(expected, rel=1e-9)
    # 2030 (mid 2030.5): 3/5 from 2025-2030 (mid 2027.5) to 2030-2035 (mid 2032.5)
    lo, hi = wpp("2025-2030", "F", 80), wpp("2030-2035", "F", 80)
    expected = np.exp(np.log(lo) + 0.6 * (np.log(hi) - np.log(lo)))
    assert all_cause(model.for_year(2030), 82, 1) == pytest.approx(expected, rel=1e-9)


def test_wpp_path_mortality_falls_and_each_year_has_its_own_tables(china):
    _, model = china
    q21, q35 = model.for_year(2021), model.for_year(2035)
    assert q21 is model.by_year[2021] and q21 is not q35
    for age in range(60, 106):
        for sex in (0, 1):
            assert all_cause(q35, age, sex) < all_cause(q21, age, sex), (age, sex)
    # the sampling tables keep their meaning: rows of the monthly matrices sum to 1, stay = P(no change)
    np.testing.assert_allclose(q35.monthly.sum(axis=-1), 1.0, atol=1e-12)
    cell = (10 * 2 + 1) * 6 + 0  # age 70, women, intact
    assert q35.stay[cell] == pytest.approx(q35.monthly[10, 1, 0, 0], rel=1e-6)
    # years outside the run take the nearest precomputed one
    assert model.for_year(2050) is model.by_year[2035]


def test_fixed_path_and_stated_improvement(tmp_path):
    text = CHINA.read_text(encoding="utf-8").replace("../../", f"{ROOT}/")
    fixed = tmp_path / "fixed.toml"
    fixed.write_text(text.replace('path = "wpp"', 'path = "fixed"\nperiod = "2015-2020"'), encoding="utf-8")
    sc = load_scenario(fixed)
    m = build_ability_model(sc)
    r21, r30 = all_cause(m.for_year(2021), 72, 0), all_cause(m.for_year(2030), 72, 0)
    assert r21 == pytest.approx(wpp("2015-2020", "M", 70), rel=1e-9) and r30 == pytest.approx(r21, rel=1e-12)

    imp = tmp_path / "imp.toml"
    imp.write_text(
        text.replace('path = "wpp"', 'path = "improvement"\nperiod = "2015-2020"\nannual_improvement = 0.02'),
        encoding="utf-8",
    )
    sc = load_scenario(imp)
    m = build_ability_model(sc)
    r21, r30 = all_cause(m.for_year(2021), 72, 0), all_cause(m.for_year(2030), 72, 0)
    assert r30 / r21 == pytest.approx(0.98**9, rel=1e-9)
    assert r21 == pytest.approx(wpp("2015-2020", "M", 70) * 0.98 ** (2021.5 - 2017.5), rel=1e-9)


def test_scenarios_without_a_mortality_section_keep_the_fixed_life_table(tiny_scenario):
    """Without [mortality] the margins' mix splits the fixed table's rate, every year (as before)."""
    model = build_ability_model(tiny_scenario)
    assert model.for_year(2030) is model and model.by_year == {}
    urban = sum(c.share_60plus * c.urban_share for c in tiny_scenario.region.counties)
    np.testing.assert_allclose(
        model.mix, ability_prevalence(tiny_scenario.margins, np.arange(60, 106), urban)
    )


def test_the_death_split_follows_the_projected_ability_mix(china):
    """With calendar mortality the split uses the mix the model expects that year: it starts at the
    margins' (people are drawn from them) and then drifts (here: more disabled among the oldest)."""
    scenario, model = china
    urban = sum(c.share_60plus * c.urban_share for c in scenario.region.counties)
    margins = ability_prevalence(scenario.margins, np.arange(60, 106), urban)
    first, later = model.for_year(2021).mix, model.for_year(2035).mix
    np.testing.assert_allclose(first.sum(axis=-1), 1.0)
    # ages 60-89 half a year after the draw: close to the margins (except at their band edges, where the
    # margins step and a cohort does not)
    assert np.abs(first - margins)[:30].mean() < 0.01
    complete = -1
    assert later[40, 1, complete] > first[40, 1, complete] > margins[40, 1, complete]  # women aged 100


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ('path = "wpp"', 'path = "fixed"', "mortality", "needs a period"),
        ('path = "wpp"', 'path = "fixed"\nperiod = "1990-1995"', "mortality.period", "not in"),
        ('path = "wpp"', 'path = "sometimes"', "mortality.path", "Input should be"),
        ('table = "', 'table = "missing/', "mortality.table", "file not found"),
        ('path = "wpp"', 'path = "wpp"\nannual_improvement = 0.01', "mortality", "only with"),
    ],
)
def test_mortality_setting_errors(tmp_path, old, new, key, problem):
    text = CHINA.read_text(encoding="utf-8").replace("../../", f"{ROOT}/")
    path = tmp_path / "s.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f": {key}: " in str(err.value) and problem in str(err.value), str(err.value)


def test_mortality_table_rows_are_checked(tmp_path):
    table = MX.astype({"mx": object})
    table.loc[3, "mx"] = "nan"
    table.to_csv(tmp_path / "mx.csv", index=False)
    text = CHINA.read_text(encoding="utf-8").replace("../../", f"{ROOT}/")
    text = text.replace(f"{ROOT}/calibration/data/wpp2024_china_mx5_by_year.csv", str(tmp_path / "mx.csv"))
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"mx.csv: row 5, column mx: must be a finite positive number"):
        load_scenario(tmp_path / "s.toml")
