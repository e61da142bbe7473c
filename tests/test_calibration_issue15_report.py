"""Issue 15 (audit of the report): the care-market section's 60+ denominators by year and the
disability section's note per missing figure."""

from __future__ import annotations

import numpy as np
import pytest

from agingsim.calibration.figures import published_figures
from agingsim.calibration.report_disability import MET_Z, Evaluated, miss_notes
from agingsim.calibration.report_market import bundled_behaviour_scenarios, denominators
from agingsim.calibration.targets import read_data


def _bulletins():
    data = read_data("care_market_bulletins.csv")
    return data.pivot_table(index="year", columns="indicator", values="value", aggfunc="first")


def test_every_bulletin_year_gets_a_60plus_count_and_says_whose():
    """The bulletin's own count first (same release), else NBS year-end, else the 2020 census."""
    b = _bulletins()
    d = denominators(b)
    assert set(d.index) == set(b.index) and not d["pop_60plus"].isna().any()
    nbs = read_data("nbs_population_bulletins.csv")
    nbs60 = nbs[nbs["measure"] == "pop_60plus"].set_index("year")["value"]
    assert d.loc[2021, "pop_60plus"] == nbs60[2021] and d.loc[2021, "source"] == "NBS, end of year"
    for y in (2019, 2022, 2023):  # the bulletins file has its own count: it is preferred
        assert d.loc[y, "pop_60plus"] == b.loc[y, "pop_60plus"] and d.loc[y, "source"].startswith("MCA")
    assert d.loc[2020.5, "source"] == d.loc[2020, "source"] == "census 2020, 1 November"
    # 2021's institution beds per 1,000 now shown: 5.037 M / 267.36 M
    assert 1000 * b.loc[2021, "institution_beds_registered"] / d.loc[2021, "pop_60plus"] == pytest.approx(
        18.84, abs=0.01
    )


def test_each_miss_gets_its_own_note_and_figures_within_get_none():
    figures = published_figures()
    n = len(figures)
    z = np.zeros(n)
    chns = [i for i, f in enumerate(figures) if f.measure == "chns_adl_disability"]
    clhls = next(i for i, f in enumerate(figures) if f.id.startswith("clhls2018."))
    z[[*chns, clhls]] = MET_Z + 1.0
    values = np.array([f.value for f in figures]) * 0.5
    notes = miss_notes(figures, Evaluated("m", values, z))
    assert set(notes) == {*chns, clhls}
    assert notes[clhls] == figures[clhls].note and notes[clhls]
    assert all("CHNS fell from" in notes[i] and "the model" in notes[i] for i in chns)
    assert notes[chns[0]] == notes[chns[1]]  # one explanation of the pair, repeated on each row


def test_the_bundled_behaviour_scenarios_are_all_found():
    """The occupancy test and the report's list cover every scenario that sets a behaviour model."""
    names = {f"{f.parent.name}/{f.name}" for f in bundled_behaviour_scenarios()}
    assert {"scenarios/default.toml", "headline/supply_beds.toml", "headline/demand_vouchers.toml"} <= names
    assert "scenarios/guiyang_service_circle.toml" in names and len(names) >= 8
