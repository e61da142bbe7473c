"""One-off payments with a yearly quota of beneficiaries (schemes.oneoff), pinned on seed 000 §14's
home adaptation (docs/seed_clauses.md 000-14-1): a one-off subsidy per household, not a monthly
amount, with households rationed by a stated order when the year's quota binds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agingsim.errors import ScenarioErrors
from agingsim.fiscal.ledger import Ledger
from agingsim.policy.dated import month_key
from agingsim.scenario import load_scenario
from agingsim.scenario.variant import load_scenario_with
from agingsim.schemes.monthly import PersonSchemes
from agingsim.schemes.oneoff import OneOffSchemes
from agingsim.simulate import run_scenario
from tests.people_builder import person

ROOT = Path(__file__).resolve().parents[1]
ZHUMADIAN = ROOT / "scenarios/zhumadian_basic_services.toml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ZHUMADIAN)


def pay(scenario, people: list[dict], weights: list[float], months: list[tuple[int, int]], pids=None):
    """Pay home_adaptation to hand-built people (all in the first county) over the given months;
    returns the ledger frame of home_adaptation's city part (the whole payment is counted once)."""
    schemes = PersonSchemes(scenario)
    one_off = OneOffSchemes(schemes, capacity=len(people))
    [scheme] = [s for s in one_off.schemes if s.id == "home_adaptation"]
    ledger = Ledger.for_region(scenario.region)
    cols = {k: np.array([p[k] for p in people]) for k in people[0]}
    cell = schemes.grid.cells(cols)
    county = np.zeros(len(people), dtype=np.int64)
    pid = np.arange(len(people), dtype=np.int32)
    for i, (year, month) in enumerate(months):
        live = pid if pids is None else np.array(pids[i], dtype=np.int32)
        one_off._pay_scheme(
            scheme, month_key(year, month), live, county[live], cell[live], np.array(weights)[live], ledger
        )
    frame = ledger.frame()
    return frame[(frame["line_item"] == "home_adaptation") & (frame["payer_level"] == "city")], one_off


def test_000_14_home_adaptation_is_paid_once_per_household_not_monthly(scenario):
    """000-14-1: a dispersed 特困 household with an 85-year-old is adapted once (3,000 CNY, the
    scenario's assumed subsidy), and never paid again in the months and years after."""
    elder = person(age=85, econ="tekun_dispersed", family="alone")
    paid, _ = pay(scenario, [elder], [1.0], [(2025, 1), (2025, 2), (2026, 1), (2027, 6)])
    assert list(paid["year"]) == [2025] and list(paid["month"]) == [1]
    assert paid["amount_cny"].sum() * 2 == pytest.approx(3000.0)  # city pays half
    assert paid["beneficiaries"].sum() == pytest.approx(1.0)


def test_000_14_home_adaptation_not_for_ineligible_households(scenario):
    """Only dispersed 特困 households with a disabled, 80+ or handicapped elder (000-14-1)."""
    people = [
        person(age=70, econ="tekun_dispersed"),  # none of 失能/高龄/残疾
        person(age=85, econ="dibao"),  # 000-14-2's optional extension is off
    ]
    paid, _ = pay(scenario, people, [1.0, 1.0], [(2025, 1)])
    assert paid.empty


def test_000_14_yearly_quota_rations_by_stated_order(scenario):
    """The county quota (150 households a year) is never exceeded: moderately disabled elders
    first, then 80+, then the rest; whoever does not fit waits for next year's quota."""
    people = [
        person(age=72, econ="tekun_dispersed", flags=("handicapped",)),  # last class
        person(age=82, econ="tekun_dispersed"),  # 80+
        person(age=70, econ="tekun_dispersed", ability="moderate"),  # moderately disabled: first
    ]
    paid, one_off = pay(scenario, people, [60.0, 60.0, 60.0], [(2025, 1)])
    # 60 + 60 households of the first two classes, then 30 of the 60 the last row stands for
    assert one_off.unpaid["home_adaptation"].tolist() == [0.5, 0.0, 0.0]
    assert paid["beneficiaries"].sum() == pytest.approx(150.0)
    assert one_off.used[("home_adaptation", "county", 2025)][0] == pytest.approx(150.0)


def test_000_14_quota_then_first_come_and_next_year(scenario):
    """Within a class, first come (month first eligible, then id); once the quota is used up the
    rest wait, and are served from next year's quota."""
    people = [person(age=82, econ="tekun_dispersed")] * 3
    weights = [100.0, 100.0, 40.0]
    months = [(2025, 1), (2025, 3), (2026, 1)]
    pids = [[0, 1], [0, 1, 2], [0, 1, 2]]
    paid, one_off = pay(scenario, people, weights, months, pids)
    by_month = paid.groupby(["year", "month"])["beneficiaries"].sum()
    assert by_month[(2025, 1)] == pytest.approx(150.0)  # person 0 and half of person 1
    assert (2025, 3) not in by_month.index  # the quota is used up: person 2 (from March) waits
    assert by_month[(2026, 1)] == pytest.approx(90.0)  # the other half of person 1, and person 2
    assert (one_off.unpaid["home_adaptation"] == 0).all()


def test_one_off_terms_rejected_on_monthly_schemes(tmp_path):
    """quota and ration_order mean nothing without once: a FILE: KEY: PROBLEM error, not silence."""
    with pytest.raises(ScenarioErrors, match=r"policy.schemes\[0\].*quota applies to one-off"):
        load_scenario_with(ZHUMADIAN, {"policy.schemes[0].quota": {"county": 10}})


def test_000_14_home_adaptation_in_a_run_is_3000_per_household_within_quota():
    """A run of the Zhumadian scenario: every household paid is paid 3,000 CNY once; no county
    exceeds its 150 households a year, and in the first year (a backlog larger than the quota)
    every county fills it."""
    sc = load_scenario(ZHUMADIAN).with_run(simulated_people=40_000, years=3)
    ledger = run_scenario(sc).ledger
    city = ledger[(ledger["line_item"] == "home_adaptation") & (ledger["payer_level"] == "city")]
    assert not city.empty
    # one row per funding source (budget, lottery): amounts add up, beneficiaries are the same
    rows = city.groupby(["year", "month", "county"]).agg(
        amount_cny=("amount_cny", "sum"), beneficiaries=("beneficiaries", "first")
    )
    rows = rows.reset_index()
    assert (rows["amount_cny"] * 2 / rows["beneficiaries"]).to_numpy() == pytest.approx(3000.0)
    per_county = rows.groupby(["year", "county"])["beneficiaries"].sum()
    assert per_county.max() <= 150.0 + 1e-6
    assert per_county.loc[2025].to_numpy() == pytest.approx(150.0)
