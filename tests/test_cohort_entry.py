"""Issue 14 item 1: the people 60+ at the start and those turning 60 come from the region's own cohorts
(population base, survived forward with the model's mortality), not from a flat rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agingsim.errors import ScenarioError
from agingsim.model import AgingModel, EntryPlan
from agingsim.population.synth import Synthesiser
from agingsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
CHINA = ROOT / "scenarios" / "validation" / "china_2020.toml"


@pytest.fixture(scope="module")
def china():
    scenario = load_scenario(CHINA)
    synth = Synthesiser.from_scenario(scenario)
    return scenario, synth, EntryPlan.from_scenario(scenario, 1000.0, synth)


def test_entry_at_60_follows_the_census_cohorts_aged_40_to_59(china):
    """Entrants of year Y are the census cohort aged 59 − (Y − 2021) on 1 Nov 2020 (and a sixth of the one
    a year younger: two months pass before 1 Jan 2021), less its deaths before 60 at WPP rates."""
    scenario, _synth, plan = china
    base = scenario.population_base
    by_age = base.counts.sum(axis=1)
    h = 2 / 12  # 1 Nov 2020 → 1 Jan 2021
    for k, year in enumerate(range(2021, 2036)):
        a = 59 - k - base.age_min
        cohort = (1 - h) * by_age[a] + h * by_age[a - 1]
        survival = plan.real_per_year[k] / cohort
        # 0.5 (age 59, half a year) to 15.5 years of deaths at ages 44-59: 0.999 down to ≈ 0.93
        assert 0.90 < survival < 1.0, (year, survival)
    assert plan.fed_by == ("base",) * 15


def test_entry_at_60_shows_the_famine_trough_and_the_boom(china):
    """The 1961 famine cohort (turning 60 in 2021) is the smallest; the 1962-63 rebound makes entrants
    jump by half in two years, and the boom holds them ≥ 25% above 2021 through 2028. Each year's
    entrants are the WPP 2024 births of their cohort (born in year Y − 60) times a survival to 60 of
    0.6-0.9: a smooth or flat entry would not track the births' 16.9 → 33.5 million swing."""
    _, _, plan = china
    real = dict(zip(range(2021, 2036), plan.real_per_year, strict=True))
    births = pd.read_csv(ROOT / "calibration" / "data" / "wpp2024_china_births1.csv").set_index("year")[
        "births"
    ]
    assert min(real, key=real.get) == 2021
    assert real[2023] > 1.5 * real[2021]
    assert real[2028] > 1.25 * real[2021]
    assert 12e6 < real[2021] < 15e6 and 21e6 < real[2028] < 25e6
    for year, people in real.items():
        assert 0.6 < people / births[year - 60] < 0.9, (year, people / births[year - 60])


def test_initial_people_are_the_base_table_projected_to_1_january(china):
    """60+ on 1 Jan 2021 = census 60+ (264.0 M on 1 Nov 2020) + two months of entrants − deaths; the
    65+ part is the census 65+ aged two months."""
    scenario, synth, _plan = china
    start = synth.cohorts.start_counts
    assert synth.start_60plus == pytest.approx(start.sum())
    assert 264.0e6 < start.sum() < 265.5e6
    assert start[5:].sum() == pytest.approx(190.6e6, rel=0.01)
    # people drawn by the model follow the table's age shape
    model = AgingModel(scenario.with_run(simulated_people=100_000, years=1))
    age = model.people.age_m // 12
    share_6064 = float(model.people.weight[age < 65].sum() / model.people.weight.sum())
    assert share_6064 == pytest.approx(start[:5].sum() / start.sum(), abs=0.005)


def test_entrants_sex_split_comes_from_the_table(china):
    _, synth, plan = china
    expected = synth.cohorts.entrants[0, 0] / synth.cohorts.entrants[0].sum()
    assert plan.male_share[0] == pytest.approx(expected)
    assert 0.49 < expected < 0.52


def test_years_beyond_the_youngest_cohort_come_from_the_labelled_projection():
    """A table from age 40 on 1 Nov 2020 feeds entrants to 2039; 2040 on come from WPP 2024 scaled."""
    scenario = load_scenario(DATA / "tiny_base.toml").with_run(years=20)  # 2024–2043
    synth = Synthesiser.from_scenario(scenario)
    plan = EntryPlan.from_scenario(scenario, 1.0, synth)
    years = list(range(2024, 2044))
    fed = dict(zip(years, plan.fed_by, strict=True))
    assert fed[2039] == "base" and fed[2040] == "projection" and fed[2043] == "projection"
    real = dict(zip(years, plan.real_per_year, strict=True))
    # the tiny table has ≈ 1,700-1,900 people per year of age at 40-44: same order from the projection
    assert 0.5 < real[2040] / real[2039] < 1.5


def _tiny_base_without_projection(tmp_path: Path) -> Path:
    """The tiny base scenario copied into ``tmp_path`` with its region's projection line removed."""
    text = (DATA / "tiny_base_region.toml").read_text(encoding="utf-8")
    text = text.replace('projection = "../../calibration/data/wpp2024_china_pop5.csv"\n', "")
    (tmp_path / "tiny_base_region.toml").write_text(text, encoding="utf-8")
    for name in ("tiny_margins.toml", "tiny_population.csv"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    sc = (DATA / "tiny_base.toml").read_text(encoding="utf-8").replace("../../", f"{ROOT}/")
    (tmp_path / "tiny_base.toml").write_text(sc, encoding="utf-8")
    return tmp_path / "tiny_base.toml"


def test_a_run_past_the_base_without_a_projection_is_an_error(tmp_path):
    scenario = load_scenario(_tiny_base_without_projection(tmp_path)).with_run(years=20)
    with pytest.raises(ScenarioError, match=r"population_base\.projection: the run reaches 2040"):
        Synthesiser.from_scenario(scenario)


def test_a_run_starting_before_the_census_date_is_an_error():
    scenario = load_scenario(CHINA).with_run(start_year=2020)
    with pytest.raises(ScenarioError, match=r"run.start_year: .*before the population base's reference date"):
        Synthesiser.from_scenario(scenario)


def test_flat_entry_regions_keep_their_entry_rate(tiny_scenario):
    """Regions without a base keep [entry]: one male share, labelled 'flat'."""
    plan = EntryPlan.from_scenario(tiny_scenario, 5.0, Synthesiser.from_scenario(tiny_scenario))
    assert plan.fed_by == ("flat",) * 3
    assert np.all(plan.male_share == tiny_scenario.region.entry.male_share)
    assert plan.real_per_year[1] == pytest.approx(6000 * 1.02)


def test_people_are_conserved_with_a_population_base():
    """people(1 Jan y+1) = people(1 Jan y) + entrants − deaths with cohort entry and WPP-path mortality."""
    model = AgingModel(load_scenario(CHINA).with_run(simulated_people=20_000, years=3))
    model.run()
    d = model.collector.demography_frame().set_index("year")
    flow = d["people_1_jan"] + d["entrants"] - d["deaths"]
    np.testing.assert_allclose(d["people_1_jan"].to_numpy()[1:], flow.to_numpy()[:-1], rtol=1e-9)


def test_a_run_inside_the_base_years_is_the_same_with_or_without_a_projection(tmp_path):
    """Issue 17: the projection is split to single years only when a run reaches past the base's
    youngest cohort; a shorter run must not depend on it (the same plan without one)."""
    without_path = _tiny_base_without_projection(tmp_path)
    with_proj = Synthesiser.from_scenario(load_scenario(DATA / "tiny_base.toml").with_run(years=16)).cohorts
    without = Synthesiser.from_scenario(load_scenario(without_path).with_run(years=16)).cohorts
    assert with_proj is not None and without is not None
    assert with_proj.fed_by == without.fed_by == ("base",) * 16  # 2024–2039
    assert with_proj.entrants.tobytes() == without.entrants.tobytes()
    assert with_proj.start_counts.tobytes() == without.start_counts.tobytes()


def test_a_cohort_step_counts_the_time_each_cohort_spends_past_its_next_birthday():
    """Issue 14 backtest: a cohort of completed age a, spread evenly over [a, a + 1), lives half of a
    one-year step at a + 1 (everyone past their birthday), as the model's monthly ageing has it. Its
    survivors must be ∫₀¹ exp(−m(a)(1 − u) − m(a + 1)u) du = (e^−m(a) − e^−m(a+1)) / (m(a+1) − m(a)),
    and one yearly step must agree with twelve monthly ones; applying m(a) for the whole year kept
    every cohort half a year too young (deaths 60+ ~5% low at Gompertz rates)."""
    from agingsim.population.cohorts import _step

    ages = np.arange(40, 106)
    mx = np.column_stack([np.exp(-10.0 + 0.1 * ages), np.exp(-10.5 + 0.1 * ages)])
    for a in (75, 85, 95):
        state = np.zeros((len(ages), 2))
        state[a - 40] = 1000.0
        yearly, _ = _step(state, mx, 1.0, 40, 0.0)
        monthly = state
        for _ in range(12):
            monthly, _ = _step(monthly, mx, 1 / 12, 40, 0.0)
        m0, m1 = mx[a - 40], mx[a - 39]
        exact = 1000.0 * (np.exp(-m0) - np.exp(-m1)) / (m1 - m0)
        assert yearly.sum(axis=0) == pytest.approx(exact, rel=1e-3), a
        assert monthly.sum(axis=0) == pytest.approx(exact, rel=1e-3), a
        assert np.all(1000.0 * np.exp(-m0) > exact * (1 + 2e-3))  # the rate of age a alone: too many


def test_demography_csv_says_where_each_years_entrants_at_60_come_from(tmp_path):
    """Issue 14 leftover: demography.csv labels every run year's entrants "base" (the table's own
    cohorts) or "projection" (scaled WPP), as the entry plan has them, and the 1 January after the
    run (no entrants) "none"; a flat-entry region's years are "flat"."""
    from agingsim.simulate import run_scenario

    scenario = load_scenario(DATA / "tiny_base.toml").with_run(years=20, simulated_people=500)  # 2024–2043
    result = run_scenario(scenario)
    result.files()["demography.csv"](tmp_path / "demography.csv")
    written = pd.read_csv(tmp_path / "demography.csv")
    by_year = written.groupby("year")["entrants_from"].agg(set)
    plan = EntryPlan.from_scenario(scenario, 1.0, Synthesiser.from_scenario(scenario))
    for k, fed in enumerate(plan.fed_by):
        assert by_year[2024 + k] == {fed}
    assert by_year[2039] == {"base"} and by_year[2040] == {"projection"} and by_year[2044] == {"none"}


def test_flat_entry_years_are_labelled_flat_in_demography(tiny_scenario):
    model = AgingModel(tiny_scenario)
    model.run()
    d = model.collector.demography_frame()
    assert set(d[d["year"] < 2024 + 3]["entrants_from"]) <= {"flat"}
    assert (d["entrants_from"] == "flat").sum() == 3 * d["county"].nunique()


def test_a_years_entrants_drawn_together_are_each_months_drawn_alone(china):
    """Synthesiser.entrants_of (the model draws a year's entrants in its first month): each month
    from its own generator, the same people, column for column, as that month drawn alone; the
    months follow one another, and a month with none adds no rows."""
    _scenario, synth, _plan = china
    months = [(11, 700, 0.49, 6.5), (12, 0, 0.5, 6.5), (13, 1_300, 0.52, 7.25)]
    together = synth.entrants_of([(np.random.default_rng(s), n, m, w) for s, n, m, w in months])
    alone = [synth.entrants(np.random.default_rng(s), n, m, w) for s, n, m, w in months]
    assert set(together) == set(alone[0])
    for name, values in together.items():
        expect = np.concatenate([cols[name] for cols in alone])
        assert values.dtype == expect.dtype and np.array_equal(values, expect), name
    assert len(together["age_m"]) == 2_000 and (together["weight"][700:] == np.float32(7.25)).all()
