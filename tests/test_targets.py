"""Targets scorecard (results.targets, targets.csv): each seed target checked on constructed runs.

Pins one target met and one not met for each measure kind the model computes, and the honest
"not modelled" row (no invented value), on the scenarios' own [[targets]] (seed 002 二(二)-2,
003-16-4, 000-4-1, 001-23-1)."""

from __future__ import annotations

import pandas as pd
import pytest

from agingsim.errors import ScenarioErrors
from agingsim.results.targets import TARGET_COLUMNS, targets_frame
from agingsim.scenario.files import project_root
from agingsim.scenario.variant import load_scenario_with
from agingsim.simulate import RunResult, run_scenario

SCENARIOS = project_root() / "scenarios"
GUIYANG = SCENARIOS / "guiyang_service_circle.toml"
NINGHE = SCENARIOS / "ninghe_allowances.toml"
SHANXI = SCENARIOS / "shanxi_beds_to_vouchers.toml"
ZHUMADIAN = SCENARIOS / "zhumadian_basic_services.toml"
EMPTY = pd.DataFrame()


def constructed(scenario, **frames) -> RunResult:
    """A run result with only the given frames (no simulation): the scorecard reads nothing else."""
    return RunResult(scenario, 0, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, 0.0, **frames)


def row(frame: pd.DataFrame, target_id: str, year: int) -> pd.Series:
    [r] = frame[(frame["target_id"] == target_id) & (frame["year"] == year)].itertuples(index=False)
    return pd.Series(r._asdict())


def test_002_二_二_2_facility_counts_met_by_2023_and_missed_when_the_plan_falls_short():
    """002-二(二)-2: 60 street centres and 320 stations by 2023. The bundled plan reaches both in
    2023; a plan opening 20 fewer stations in 2023 misses the stations target, not the centres'."""
    plan = constructed(load_scenario_with(GUIYANG))
    frame = targets_frame(plan)
    assert list(frame.columns) == TARGET_COLUMNS
    centres, stations = row(frame, "street_centres_2023", 2023), row(frame, "community_stations_2023", 2023)
    assert (centres.model_value, centres.met, centres.due) == (60.0, "true", "true")
    assert (stations.model_value, stations.met) == (320.0, "true")
    assert row(frame, "community_stations_2023", 2022).met == "false"  # progress before it is due
    assert row(frame, "community_stations_2023", 2022).due == "false"
    opens = load_scenario_with(GUIYANG).file.policy.facilities[2].opens
    short = {k: (v - 20 if k.startswith("2023") else v) for k, v in opens.items()}
    fewer = targets_frame(constructed(load_scenario_with(GUIYANG, {"policy.facilities[2].opens": short})))
    assert row(fewer, "community_stations_2023", 2023).model_value == 300.0
    assert row(fewer, "community_stations_2023", 2030).met == "false"
    assert row(fewer, "street_centres_2023", 2023).met == "true"


def test_003_16_4_nursing_bed_share_met_at_60_percent_not_at_59():
    """003-16-4: nursing-type beds ≥ 60% of institutional beds by 2025, from capacity.csv."""
    capacity = pd.DataFrame(
        {
            "year": [2025, 2025, 2026],
            "county": ["ninghe", "ninghe", "ninghe"],
            "beds": [60.0, 40.0, 100.0],
            "nursing_beds": [40.0, 20.0, 59.0],
        }
    )
    frame = targets_frame(constructed(load_scenario_with(NINGHE), capacity=capacity))
    assert row(frame, "nursing_beds_share_2025", 2025)[["model_value", "met"]].tolist() == [0.6, "true"]
    assert row(frame, "nursing_beds_share_2025", 2026)[["model_value", "met"]].tolist() == [0.59, "false"]


def test_000_4_1_monthly_visits_met_only_when_every_eligible_elder_is_visited():
    """000-4-1: every eligible elder visited each month (served ÷ eligible of visiting_care = 1)."""
    groups = pd.DataFrame(
        {
            "year": [2025, 2026],
            "scheme": ["visiting_care"] * 2,
            "group": ["all"] * 2,
            "eligible": [1000.0, 1000.0],
            "served": [1000.0, 900.0],
        }
    )
    frame = targets_frame(constructed(load_scenario_with(ZHUMADIAN), groups_served=groups))
    assert row(frame, "visits_every_eligible_elder", 2025).met == "true"
    assert row(frame, "visits_every_eligible_elder", 2026)[["model_value", "met"]].tolist() == [0.9, "false"]


def test_001_23_1_grade_ratings_are_not_modelled_never_invented():
    """001-23-1 (80% of township homes rated grade 1+): the model has no ratings, so the row keeps
    the requirement and says why, with no model value and no verdict."""
    frame = targets_frame(constructed(load_scenario_with(SHANXI)))
    r = row(frame, "township_homes_grade1_2025", 2025)
    assert r.required == 0.8 and pd.isna(r.model_value) and r.met == ""
    assert r.note.startswith("not modelled:")


def test_a_measure_the_run_lacks_is_not_modelled():
    """A nursing-bed target on a run without the behaviour model has no value: not modelled."""
    frame = targets_frame(constructed(load_scenario_with(NINGHE)))
    r = row(frame, "nursing_beds_share_2025", 2025)
    assert pd.isna(r.model_value) and r.met == "" and "behaviour model" in r.note


def test_targets_csv_written_with_a_run(tmp_path):
    result = run_scenario(load_scenario_with(ZHUMADIAN).with_run(simulated_people=3000, years=2))
    out = result.write(tmp_path / "out")
    table = pd.read_csv(out / "targets.csv", keep_default_na=False)
    assert list(table.columns) == TARGET_COLUMNS
    assert set(table["year"]) == {2025, 2026}
    assert set(table["met"]) <= {"true", "false", ""}


def test_the_scorecard_shows_each_target_unit_in_the_page_language(tmp_path):
    """targets.csv keeps the Chinese unit and its English; the scorecard shows the page's own (a
    Chinese page showed "share of elders" under Chinese target names)."""
    from agingsim.report.data import load_results, scorecard_rows

    result = run_scenario(load_scenario_with(ZHUMADIAN).with_run(simulated_people=3000, years=2))
    results = load_results(result.write(tmp_path / "out"))
    targets = {t.id: t for t in result.scenario.file.targets}
    table = pd.read_csv(results.path / "targets.csv", keep_default_na=False)
    zh, en = scorecard_rows(results, "zh"), scorecard_rows(results, "en")
    assert len(zh) == len(en) == len(table)
    for r, rz, re_ in zip(table.itertuples(index=False), zh, en, strict=True):
        t = targets[r.target_id]
        assert rz[5] == t.unit and re_[5] == (t.unit_en or t.unit)


@pytest.mark.parametrize("path", [GUIYANG, NINGHE, SHANXI, ZHUMADIAN])
def test_every_bundled_target_with_a_unit_has_it_in_chinese_and_english(path):
    for t in load_scenario_with(path).file.targets:
        if t.unit or t.unit_en:
            assert t.unit and t.unit_en, t.id
            assert any("\u4e00" <= c <= "\u9fff" for c in t.unit), (t.id, t.unit)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("targets[0].scheme", "no_such_scheme", "unknown scheme"),
        ("targets[0].measure", "bed_count", "Input should be"),
        ("targets[1].reason", "", "needs a reason"),
    ],
)
def test_bad_targets_are_file_key_problem_errors(key, value, problem):
    with pytest.raises(ScenarioErrors, match=problem):
        load_scenario_with(ZHUMADIAN, {key: value})


def test_002_三_一_household_space_standard_read_from_the_geography():
    """002-三(一)-2/4 (20 m² per 100 households in new estates, 15 in existing): the share of estates
    meeting it each year is the geography's own check (geo.coverage.space_standards), here a miss."""
    from agingsim.geo.coverage import space_standards

    scenario = load_scenario_with(GUIYANG)
    frame = targets_frame(constructed(scenario))
    r = row(frame, "estates_floor_per_households", 2023)
    meets = space_standards(scenario.geography, 2023)["meets_per_households"].dropna()
    assert r.model_value == pytest.approx(float(meets.mean())) and r.met == "false"


@pytest.mark.parametrize(
    ("path", "seed"), [(GUIYANG, "002"), (NINGHE, "003"), (SHANXI, "001"), (ZHUMADIAN, "000")]
)
def test_every_seed_target_scenario_lists_its_targets_with_their_clauses(path, seed):
    """The bundled scenarios of the seeds that set quantitative targets list them, each citing a
    clause of its own seed and either a measure or the reason it is not modelled."""
    targets = load_scenario_with(path).file.targets
    assert targets
    for t in targets:
        assert t.clause.startswith(seed)
        assert t.measure != "not_modelled" or t.reason
