"""Issue 14 item 3 (regions from data): every bundled policy region starts from its own 2020 census
population base by age × sex, and its people turning 60 come from that base's cohorts aged 40-59, not
from a flat rate; every population figure carries a source or an ``assumption`` label."""

from __future__ import annotations

import importlib.util
import math
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agingsim.model import AgingModel, EntryPlan
from agingsim.population.synth import Synthesiser
from agingsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
REGIONS = ROOT / "calibration" / "regions"
#: each bundled policy region and one bundled scenario that runs it
SCENARIOS = {
    "zhumadian": "zhumadian_basic_services.toml",
    "guiyang": "guiyang_service_circle.toml",
    "ninghe": "ninghe_allowances.toml",
    "yuquan": "yuquan_home_services.toml",
    "shanxi": "shanxi_beds_to_vouchers.toml",
}


def _region(region_id: str) -> dict:
    return tomllib.loads((REGIONS / f"{region_id}.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def bundled(request):
    scenario = load_scenario(ROOT / "scenarios" / SCENARIOS[request.param])
    synth = Synthesiser.from_scenario(scenario)
    return request.param, scenario, synth, EntryPlan.from_scenario(scenario, 1.0, synth)


def _derive_module():
    spec = importlib.util.spec_from_file_location("derive_region_bases", REGIONS / "derive_region_bases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass needs its module registered
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("region_id", sorted(SCENARIOS))
def test_bundled_region_uses_a_census_population_base_not_a_flat_entry(region_id):
    region = _region(region_id)
    assert "entry" not in region
    base = region["population_base"]
    assert base["reference_date"].isoformat() == "2020-11-01"  # the 7th census date
    table = pd.read_csv(REGIONS / base["file"], keep_default_na=False)
    # the stated 60+ (a labelled figure, so it reaches assumptions.csv) is the table's, at the census date
    assert region["pop_60plus"]["value"] == table[table["age_lower"] >= 60]["people"].sum()


@pytest.mark.parametrize("region_id", sorted(SCENARIOS))
def test_region_population_figures_carry_a_source_or_assumption(region_id):
    """The [population_base] block, its migration figure and every row of its table are labelled."""
    region = _region(region_id)
    base = region["population_base"]
    for labelled in (base, region["pop_60plus"]):
        assert len(labelled.get("source") or labelled.get("assumption") or "") > 40
    mig = base["net_migration_rate"]
    assert isinstance(mig, dict) and (mig.get("source") or mig.get("assumption"))
    table = pd.read_csv(REGIONS / base["file"], keep_default_na=False)
    assert (table["source"].str.len() > 40).all()
    # a row that is not a published count says it is an assumption
    assert table["source"].str.startswith("assumption:").all()


def test_census_share_table_rows_carry_sources_and_match_the_national_counts():
    shares = pd.read_csv(ROOT / "calibration" / "data" / "census2020_region_age_shares.csv")
    assert (shares["source"].str.len() > 40).all()
    cn = shares.set_index("region_id").loc["china"]
    total = 1_411_778_724  # bulletin no. 5 national total (regions_pop60.csv)
    assert round(total * cn.share_60plus_pct / 100 / 1e6, 1) == round(264_018_766 / 1e6, 1)
    for _, row in shares.iterrows():  # bands of one region add up to 100% (to the published rounding)
        assert row.share_0_14_pct + row.share_15_59_pct + row.share_60plus_pct == pytest.approx(100, abs=0.11)


def test_region_tables_are_what_the_derivation_writes_from_the_current_china_base():
    """Re-deriving from china_population.csv gives the committed tables row for row: if China's base
    improves, this fails until `calibration/regions/derive_region_bases.py` is re-run."""
    for region_id, derived in _derive_module().derive().items():
        committed = pd.read_csv(REGIONS / f"{region_id}_population.csv", keep_default_na=False)
        assert committed["people"].tolist() == derived["people"].tolist(), region_id
        assert committed["source"].tolist() == derived["source"].tolist(), region_id


@pytest.mark.parametrize(
    ("region_id", "band", "expected"),
    [
        # Zhumadian: published 60+ share 19.8% and 15-59 share 55.1% of 7,008,427 (census 2020)
        ("zhumadian", (60, None), round(7_008_427 * 0.198)),
        ("zhumadian", (40, 59), round(7_008_427 * 0.551) / 894_376_020),
        # Ninghe: Tianjin's 60+ 21.66% and 65+ 14.75% of 395,314
        ("ninghe", (60, None), round(395_314 * 0.2166)),
        ("ninghe", (65, None), round(395_314 * 0.1475)),
        # Yuquan: Inner Mongolia's 65+ 13.05% of an assumed 400,000
        ("yuquan", (65, None), round(400_000 * 0.1305)),
        # Guiyang: assumed 14% of 5,987,018
        ("guiyang", (60, None), round(5_987_018 * 0.14)),
        # Shanxi: its census 60+ and 65+ (regions_pop60.csv)
        ("shanxi", (60, None), 6_607_025),
        ("shanxi", (65, None), 4_504_700),
    ],
)
def test_region_base_bands_equal_the_census_figures_they_are_scaled_to(region_id, band, expected):
    table = pd.read_csv(REGIONS / _region(region_id)["population_base"]["file"], keep_default_na=False)
    lo, hi = band
    rows = table[(table["age_lower"] >= lo) & ((table["age_lower"] <= hi) if hi else True)]
    got = rows["people"].sum()
    if expected < 1:  # a scale factor: the band's count over China's (both 40-59)
        china = pd.read_csv(REGIONS / "china_population.csv", keep_default_na=False)
        expected = expected * china[(china["age_lower"] >= lo) & (china["age_lower"] <= hi)]["people"].sum()
        assert got == pytest.approx(expected, rel=1e-6)
    else:
        assert got == expected


def _table_cohort(base, age: int, shift: float) -> np.ndarray:
    """People by sex aged ``age`` ``shift`` years after the reference date, before deaths: completed
    age a − n (share 1 − h) and a − n − 1 (share h), with shift = n + h."""
    n = math.floor(shift)
    h = shift - n
    i = age - n - base.age_min
    return (1 - h) * base.counts[i] + h * base.counts[i - 1]


def test_starting_people_are_the_base_cohorts_survived_to_1_january(bundled):
    """Each single age 60-69 by sex on 1 January of the start year is the table's cohort of that age
    shifted by the years since 1 November 2020, less deaths (0-9% over 1-4 years at ages 56-69)."""
    _, scenario, synth, _ = bundled
    base = scenario.population_base
    start = synth.cohorts.start_counts
    shift = scenario.run.start_year - base.reference_year
    for age in range(60, 70):
        ratio = start[age - 60] / _table_cohort(base, age, shift)
        assert np.all((ratio > 0.90) & (ratio < 1.0)), (age, ratio)


def test_model_people_by_age_band_and_sex_match_the_region_base_within_sampling_error(bundled):
    """The simulated people (20,000) by sex × band 60-64 / 65-69 / 70-79 / 80+ have the base's shares
    within 4 standard errors of a share, and their weights add up to the base's 60+."""
    _, scenario, synth, _ = bundled
    n = 20_000
    model = AgingModel(scenario.with_run(simulated_people=n, years=1))
    people = model.people
    age = people.age_m // 12
    weight = people.weight.astype(np.float64)
    start = synth.cohorts.start_counts
    ages = np.arange(60, 60 + start.shape[0])
    assert weight.sum() == pytest.approx(start.sum(), rel=1e-6)
    for s, sex in enumerate(("M", "F")):
        is_sex = people.sex == s
        for lo, hi in ((60, 64), (65, 69), (70, 79), (80, 200)):
            want = start[(ages >= lo) & (ages <= hi), s].sum() / start.sum()
            got = weight[is_sex & (age >= lo) & (age <= hi)].sum() / weight.sum()
            se = math.sqrt(want * (1 - want) / n)
            assert abs(got - want) < 4 * se, (sex, lo, hi, got, want)


def test_entry_at_60_follows_each_regions_cohorts(bundled):
    """Entrants of each year within the base are the table's cohort that is 59 that year, less its
    deaths before 60 (survival 0.85-1.0): the flat 8.5% of the 60+ is gone."""
    region_id, scenario, _, plan = bundled
    base = scenario.population_base
    assert set(plan.fed_by) == {"base"}
    for k in range(scenario.run.years):
        shift = scenario.run.start_year + k - base.reference_year
        cohort = _table_cohort(base, 59, shift).sum()
        survival = plan.real_per_year[k] / cohort
        assert 0.85 < survival < 1.0, (region_id, k, survival)


def test_guiyang_entrants_show_the_famine_trough_then_the_boom():
    """Guiyang starts in 2021, when the 1961 famine cohort turns 60: entry then jumps with the 1962-63
    rebound, which a flat rate (63,750 a year before issue 14) could not show."""
    scenario = load_scenario(ROOT / "scenarios" / SCENARIOS["guiyang"])
    plan = EntryPlan.from_scenario(scenario, 1.0, Synthesiser.from_scenario(scenario))
    real = dict(zip(range(2021, 2031), plan.real_per_year, strict=True))
    assert min(real, key=real.get) == 2021
    assert real[2023] > 1.5 * real[2021]
