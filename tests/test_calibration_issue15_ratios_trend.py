"""Issue 15 (round 3): death-rate ratios by level that fall with age, the onset trend as an
ability-model setting, and community places that follow the bulletins."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from agingsim.ability.intensities import (
    build_ability_model,
    hazard_ratios,
    onset_trend_applied,
    rates_in_year,
)
from agingsim.calibration.fit import fixed_from_scenario, load_ability, resolve_ability
from agingsim.calibration.stationary import implied
from agingsim.population.attributes import ABILITY_LEVELS, DEAD
from agingsim.scenario import load_scenario
from agingsim.scenario.schema import OnsetTrend
from agingsim.services.supply import community_places

ROOT = Path(__file__).resolve().parents[1]
FITTED = ROOT / "calibration" / "ability" / "fitted.toml"


def _with_slope(params, slope):
    return params.model_copy(
        update={"mortality": params.mortality.model_copy(update={"hazard_ratio_age_slope": slope})}
    )


def test_zero_age_slope_gives_the_files_constant_ratios_exactly():
    params, _, _ = load_ability(resolve_ability("default"))
    ages = np.arange(60, 106)
    hr = hazard_ratios(params, ages)
    want = np.array([params.mortality.hazard_ratio[lv] for lv in ABILITY_LEVELS])
    assert np.array_equal(hr, np.broadcast_to(want, hr.shape))


def test_negative_age_slope_shrinks_the_excess_ratio_but_keeps_ratios_ordered_and_at_least_one():
    params, _, _ = load_ability(resolve_ability("default"))
    ages = np.arange(60, 106)
    hr = hazard_ratios(_with_slope(params, -0.1), ages)
    assert np.all(hr >= 1.0) and np.all(np.diff(hr, axis=1) >= 0)  # ordered by level at every age
    assert np.all(np.diff(hr[:, 1:], axis=0) < 0)  # every disabled level's ratio falls with age
    excess = hr[:, -1] - 1.0
    assert excess[10] / excess[0] == pytest.approx(math.exp(-0.1 * 10))


def test_bundled_fitted_model_death_ratio_falls_with_age_as_clhls_does():
    """The CLHLS disabled/healthy ratio falls from ~4 at 70 to ~2 at 90 (Fu, Sherris & Xu 2021); the
    fitted model's must fall too (it did not with constant ratios: 2.6 → 1.8 came from mix alone)."""
    scenario = load_scenario(ROOT / "scenarios" / "default.toml")
    params, labels, life_table = load_ability(FITTED)
    assert params.mortality.hazard_ratio_age_slope < 0
    assert labels["mortality.hazard_ratio_age_slope"].text.startswith("fitted by agingsim calibrate")
    imp = implied(params, fixed_from_scenario(scenario, params, life_table))
    disabled, healthy = ["moderate", "severe", "complete"], ["intact", "mild"]
    for sex in (0, 1):
        r70 = imp.death_ratio_at(70, sex, disabled, healthy)
        r90 = imp.death_ratio_at(90, sex, disabled, healthy)
        assert r70 > 3.0 and r90 < r70 * 0.6, (r70, r90)


def test_onset_trend_is_a_setting_of_the_fitted_file_with_its_standard_error():
    params, labels, _ = load_ability(FITTED)
    trend = params.onset_trend
    assert trend is not None and trend.reference_year == 2018
    assert labels["onset_trend.per_year"].text.startswith("fitted by agingsim calibrate")
    text = FITTED.read_text(encoding="utf-8")
    assert "per_year = { value = " in text and ", sd = " in text.split("per_year = ", 1)[1].split("\n")[0]
    # the rule of agingsim calibrate: applied only when more than 2 SE from zero
    from agingsim.calibration.figures import stated_trend

    value, sd = stated_trend(FITTED)
    assert value == trend.per_year and sd is not None
    assert trend.applied == (abs(value) > 2 * sd)


def test_an_applied_onset_trend_moves_onset_rates_with_calendar_year_and_only_onset():
    scenario = load_scenario(ROOT / "scenarios" / "default.toml")
    base = scenario.ability
    on = base.model_copy(update={"onset_trend": OnsetTrend(per_year=0.02, reference_year=2018, applied=True)})
    off = base.model_copy(update={"onset_trend": OnsetTrend(per_year=0.02, reference_year=2018)})
    assert onset_trend_applied(on) and not onset_trend_applied(off)
    assert rates_in_year(off, 2030) is off
    moved = rates_in_year(on, 2028)
    for a, b in zip(base.transitions, moved.transitions, strict=True):
        worse = ABILITY_LEVELS.index(a.to) > ABILITY_LEVELS.index(a.from_)
        assert b.rate_60 == pytest.approx(a.rate_60 * (math.exp(0.2) if worse else 1.0))
    # in the simulation: each run year gets its own tables; not applied, the tables stay fixed
    run = scenario.run
    model_on = build_ability_model(dataclasses.replace(scenario, ability=on))
    model_off = build_ability_model(dataclasses.replace(scenario, ability=off))
    assert not model_off.by_year
    y0, y5 = run.start_year, run.start_year + min(5, run.years - 1)
    i, j = ABILITY_LEVELS.index("intact"), ABILITY_LEVELS.index("mild")
    q0 = model_on.for_year(y0).intensities[:, :, i, j]
    q5 = model_on.for_year(y5).intensities[:, :, i, j]
    assert np.allclose(q5 / q0, math.exp(0.02 * (y5 - y0)))
    # death rates split by level still reproduce the same life table each year
    assert np.allclose(
        model_on.for_year(y5).intensities[:, :, :DEAD, DEAD],
        model_on.for_year(y0).intensities[:, :, :DEAD, DEAD],
    )


def test_community_places_follow_the_bulletins_yearly_change_from_the_start():
    start = 2025 * 12
    fixed = community_places(1000.0, 0.0, start)
    assert fixed(start) == fixed(start + 120) == 1000.0
    falling = community_places(1000.0, -0.017, start)
    assert falling(start) == 1000.0 and falling(start - 5) == 1000.0
    assert falling(start + 12) == pytest.approx(983.0)
    assert falling(start + 120) == pytest.approx(1000.0 * 0.983**10)


def test_behaviour_file_sources_the_community_trend_from_the_bulletins():
    import pandas as pd

    scenario = load_scenario(ROOT / "scenarios" / "headline" / "supply_beds.toml")
    growth = scenario.behaviour.supply.day_care_places_growth
    data = pd.read_csv(ROOT / "calibration" / "data" / "care_market_bulletins.csv")
    places = data[data["indicator"] == "community_places"].set_index("year")["value"]
    assert growth == pytest.approx(places[2023] / places[2022] - 1.0, abs=5e-4)
