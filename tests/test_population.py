"""Issue 2 §2: the synthetic population reproduces its margins; ageing and cohort entry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agingsim.model import AgingModel
from agingsim.population.attributes import ABILITY_LEVELS, FLAGS
from agingsim.population.margins import band_index
from agingsim.population.people import People
from agingsim.population.synth import Synthesiser
from agingsim.rng import RandomStreams

N = 200_000


@pytest.fixture(scope="module")
def synth_people(request):
    from agingsim.scenario import load_scenario
    from tests.conftest import DATA

    scenario = load_scenario(DATA / "tiny.toml")
    synth = Synthesiser.from_scenario(scenario)
    cols = synth.initial(RandomStreams(3).generator("population"), N, scenario.region.pop_60plus / N)
    return scenario, cols


def within_sampling_error(observed: int, n: int, p: float, z: float = 4.5) -> bool:
    return abs(observed / n - p) <= z * np.sqrt(p * (1 - p) / n) + 1e-12


def test_weights_sum_to_the_region_population(synth_people):
    scenario, cols = synth_people
    assert cols["weight"].sum(dtype=np.float64) == pytest.approx(scenario.region.pop_60plus, rel=1e-6)


def test_age_sex_bands_reproduce_the_margin(synth_people):
    scenario, cols = synth_people
    rows = scenario.margins.age_sex
    total = sum(r.M + r.F for r in rows)
    age = cols["age_m"] // 12
    bands = band_index(age, scenario.margins.age_bands)
    for b, row in enumerate(rows):
        for s, count in enumerate((row.M, row.F)):
            observed = int(((bands == b) & (cols["sex"] == s)).sum())
            assert within_sampling_error(observed, N, count / total), (row.age, s)


def test_ability_rises_with_age_as_the_margin_says(synth_people):
    """Disability by age band comes from the margin, not from code (tiny_margins.toml)."""
    scenario, cols = synth_people
    bands = band_index(cols["age_m"] // 12, scenario.margins.age_bands)
    for row in scenario.margins.attributes["ability"].rows:
        b = scenario.margins.band_labels().index(row["age_band"])
        in_band = bands == b
        n = int(in_band.sum())
        for level, p in enumerate(row["p"]):
            observed = int((cols["ability"][in_band] == level).sum())
            assert within_sampling_error(observed, n, p), (row["age_band"], ABILITY_LEVELS[level])


def test_family_depends_on_residence_and_age(synth_people):
    """No 'left behind' people in towns; living alone rises with age (tiny_margins.toml rows)."""
    scenario, cols = synth_people
    left_behind = cols["family"] == 2
    assert not (left_behind & (cols["residence"] == 0)).any()
    bands = band_index(cols["age_m"] // 12, scenario.margins.age_bands)
    alone = [float((cols["family"][bands == b] == 3).mean()) for b in range(3)]
    assert alone[0] < alone[1] < alone[2]


def test_conditional_flag_follows_its_parent(synth_people):
    """Every 失独 person is 计生特扶 (fp_special | lost_only_child = yes has p = 1)."""
    _, cols = synth_people
    lost = (cols["flags"] >> FLAGS.index("lost_only_child")) & 1
    fp = (cols["flags"] >> FLAGS.index("fp_special")) & 1
    assert lost.sum() > 0
    assert (fp[lost == 1] == 1).all()


def test_counties_residence_and_ltc_follow_the_region_file(synth_people):
    scenario, cols = synth_people
    for i, county in enumerate(scenario.region.counties):
        here = cols["county"] == i
        assert within_sampling_error(int(here.sum()), N, county.share_60plus)
        n = int(here.sum())
        assert within_sampling_error(int((cols["residence"][here] == 0).sum()), n, county.urban_share)
        ltc = (cols["flags"][here] >> FLAGS.index("ltc_insured")) & 1
        assert within_sampling_error(int(ltc.sum()), n, county.ltc_insured_share)


def test_state_is_at_most_64_bytes_per_person():
    assert People.bytes_per_person() <= 64


def test_everyone_alive_ages_one_month_per_month(tiny_scenario):
    model = AgingModel(tiny_scenario)
    people = model.people
    before = pd.Series(people.age_m.copy(), index=people.pid.copy())
    for _ in range(12):
        model.step()
    alive = people.ability != 5
    after = pd.Series(people.age_m[alive], index=people.pid[alive])
    survivors = after.index.intersection(before.index)
    assert len(survivors) > 0.9 * len(before)
    assert (after[survivors] - before[survivors] == 12).all()
    entrants = after.index.difference(before.index)
    assert len(entrants) > 0
    # entered at exactly 60 (720 months) at the start of a month of this year, then aged with it
    assert after[entrants].between(721, 732).all()


def test_cohort_entry_is_sized_from_the_region_file(tiny_scenario):
    """Entrants per year = entrants_per_year × (1 + growth)^(year − base_year), in real people."""
    model = AgingModel(tiny_scenario)
    model.run()
    demo = model.collector.demography_frame().groupby("year")[["entrants"]].sum()
    entry = tiny_scenario.region.entry
    for year in range(2024, 2027):
        expected = entry.entrants_per_year * (1 + entry.annual_growth) ** (year - entry.base_year)
        assert demo.loc[year, "entrants"] == pytest.approx(expected, rel=1e-6)


def test_people_are_conserved_year_to_year(tiny_scenario):
    """people(1 Jan y+1) = people(1 Jan y) + entrants − deaths, in every county."""
    model = AgingModel(tiny_scenario)
    model.run()
    demo = model.collector.demography_frame().set_index(["county", "year"]).sort_index()
    for _county, d in demo.groupby(level="county"):
        d = d.droplevel("county")
        flow = d["people_1_jan"] + d["entrants"] - d["deaths"]
        np.testing.assert_allclose(d["people_1_jan"].to_numpy()[1:], flow.to_numpy()[:-1], rtol=1e-9)


def test_deaths_are_concentrated_among_the_disabled(tiny_scenario):
    """Over a year, the death rate of complete-loss people exceeds that of intact people."""
    model = AgingModel(tiny_scenario.with_run(simulated_people=50_000))
    start = model.people.ability.copy()
    pids = model.people.pid.copy()
    for _ in range(12):
        model.step()
    end = pd.Series(model.people.ability, index=model.people.pid).reindex(pids).to_numpy()
    rate = [float((end[start == lv] == 5).mean()) for lv in (0, 4)]
    assert rate[1] > 3 * rate[0]


def test_care_setting_follows_its_margin(synth_people):
    """Care setting is drawn by ability (tiny_margins.toml): intact people are all in family care,
    and institutional care rises with disability."""
    from agingsim.population.attributes import CARE_SETTINGS

    _, cols = synth_people
    inst = CARE_SETTINGS.index("institution")
    assert (cols["care_setting"][cols["ability"] == 0] == CARE_SETTINGS.index("family_care")).all()
    share = [float((cols["care_setting"][cols["ability"] == lv] == inst).mean()) for lv in (2, 3, 4)]
    assert share[0] < share[1] < share[2]


def test_compiled_yearly_count_is_numpys_bincount_bit_for_bit(tiny_scenario):
    """results.fused.stock_counts (the large runs' 1 January count) adds the same float32 weights
    into the same (county, state code) cells in the same row order as the numpy snapshot, so the
    stock tables are the same floats; checked on a run's own people after three years."""
    from agingsim.results import fused

    model = AgingModel(tiny_scenario.with_run(years=3))
    model.run()
    p = model.people
    rng = np.random.default_rng(5)
    p.weight[: p.n] = rng.random(p.n, dtype=np.float32) * 40  # weights that do not add up exactly
    numpy_count, compiled = (
        model.collector,
        type(model.collector)(model.collector.county_ids, model.code_span),
    )
    compiled.fused = fused
    numpy_count.snapshot(2099, p)
    compiled.snapshot(2099, p)
    assert compiled.stock[2099].sum() > 0
    assert np.array_equal(numpy_count.stock[2099], compiled.stock[2099])
