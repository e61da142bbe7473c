"""Missing budget lines (issue 16): fixed programme lines (schemes.programme), funding sources beside
the budget (fiscal.funding), family-bed and 特困 lines, each pinned to the clause it costs."""

from __future__ import annotations

import pandas as pd
import pytest

from agingsim.errors import ScenarioErrors
from agingsim.fiscal.funding import compile_funding
from agingsim.policy.dated import month_key
from agingsim.scenario.files import project_root
from agingsim.scenario.variant import load_scenario_with
from agingsim.schemes.monthly import PersonSchemes
from agingsim.simulate import run_scenario
from tests.people_builder import entitle, person

SCENARIOS = project_root() / "scenarios"
SHANXI = SCENARIOS / "shanxi_beds_to_vouchers.toml"
GUIYANG = SCENARIOS / "guiyang_service_circle.toml"
ZHUMADIAN = SCENARIOS / "zhumadian_basic_services.toml"


@pytest.fixture(scope="module")
def shanxi_ledger():
    return run_scenario(load_scenario_with(SHANXI).with_run(simulated_people=3000, years=2)).ledger


@pytest.fixture(scope="module")
def guiyang_ledger():
    return run_scenario(load_scenario_with(GUIYANG).with_run(simulated_people=3000, years=3)).ledger


def yearly(ledger: pd.DataFrame, line: str) -> pd.DataFrame:
    return ledger[ledger["line_item"] == line].groupby(["year", "payer_level", "funding"])["amount_cny"].sum()


def test_001_15_sports_lottery_fitness_lines_8m_and_2m_a_year(shanxi_ledger):
    """001-15-1/2: 800万元 and 200万元 a year of provincial sports-lottery funds from 2023."""
    for line, cny in (("fitness_equipment_communities", 8_000_000), ("fitness_equipment_homes", 2_000_000)):
        paid = yearly(shanxi_ledger, line)
        assert paid.to_dict() == {
            (2024, "province", "sports_lottery"): pytest.approx(cny),
            (2025, "province", "sports_lottery"): pytest.approx(cny),
        }


def test_001_24_provincial_talent_fund_10m_a_year(shanxi_ledger):
    """001-24-2: 省财政每年安排专项资金1000万元, from the provincial budget."""
    assert yearly(shanxi_ledger, "talent_fund").to_dict() == {
        (2024, "province", "budget"): pytest.approx(10_000_000),
        (2025, "province", "budget"): pytest.approx(10_000_000),
    }


def test_002_三_七_carer_award_3000_each_and_500_trainees_a_year(guiyang_ledger):
    """002-三(七): a one-off 3,000 CNY award per carer (awards a year assumed) and at least 500
    trainees a year, all paid by the city."""
    award = guiyang_ledger[guiyang_ledger["line_item"] == "carer_retention_award"]
    assert (award["amount_cny"].sum() / award.groupby("year")["beneficiaries"].sum().sum()) == pytest.approx(
        3000
    )
    assert set(award["payer_level"]) == {"city"}
    trainees = guiyang_ledger[guiyang_ledger["line_item"] == "frontline_training"]
    assert trainees.groupby("year")["beneficiaries"].sum().tolist() == pytest.approx([500, 500, 500])


def test_002_四_二_funding_sources_split_construction_without_changing_costs(guiyang_ledger):
    """002-四(二)-1 names World Bank loans, special bonds and lottery funds beside the budget: the
    split moves money between sources, never changes what each level pays for each line."""
    plain = run_scenario(
        load_scenario_with(GUIYANG, {"policy.funding": {}}).with_run(simulated_people=3000, years=3)
    ).ledger
    assert set(plain["funding"]) == {"budget"}
    construction = guiyang_ledger[guiyang_ledger["line_item"] == "construction_per_bed"]
    shares = construction.groupby("funding")["amount_cny"].sum() / construction["amount_cny"].sum()
    assert shares.to_dict() == pytest.approx(
        {"budget": 0.5, "world_bank_loan": 0.2, "special_bonds": 0.2, "lottery": 0.1}
    )
    by = ["year", "line_item", "payer_level"]
    pd.testing.assert_series_equal(
        guiyang_ledger.groupby(by)["amount_cny"].sum(), plain.groupby(by)["amount_cny"].sum()
    )


def test_funding_errors_name_the_key():
    bad = load_scenario_with(SHANXI, {"policy.funding.talent_fund": {"budget": 0.5, "bonds": 0.5}})
    with pytest.raises(ScenarioErrors, match=r"policy.funding.talent_fund: unknown funding source"):
        compile_funding(bad.file.policy, bad.path)
    bad = load_scenario_with(SHANXI, {"policy.funding.no_such_line": {"budget": 1.0}})
    with pytest.raises(ScenarioErrors, match="not a scheme or programme"):
        compile_funding(bad.file.policy, bad.path)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (person(80, "severe", econ="tekun_centralised"), ("centralised", 1640)),
        (person(70, "moderate", econ="tekun_dispersed"), ("dispersed", 1046)),
        (person(70, "intact", econ="tekun_dispersed"), ("dispersed", 709)),
        (person(80, "severe", econ="dibao"), (None, 0)),
    ],
)
def test_001_13_4_tekun_support_basic_living_plus_care_by_ability(who, expected):
    """001-13-4 / 001-8-3: each special-hardship elder's support standard (basic living + care by
    grade, the scenario's labelled assumption), centralised at the higher care rates."""
    schemes = PersonSchemes(load_scenario_with(SHANXI))
    [(cny, group)] = entitle(schemes, "tekun_support", [who], month_key(2024, 1))
    assert (group, cny) == expected


@pytest.mark.parametrize(
    ("setting", "econ", "ability", "paid"),
    [
        ("family_bed", "dibao", "moderate", 300),
        ("family_bed", "ordinary", "severe", 0),  # 困难 only (001-10-2)
        ("home_services", "dibao", "severe", 0),  # not in a family bed
        ("family_bed", "dibao", "mild", 0),  # 失能: moderate and above, assumed
    ],
)
def test_001_10_2_family_bed_operating_subsidy_for_beds_in_use(setting, econ, ability, paid):
    """001-10-2: family elderly beds for needy disabled elders, paid per bed in use."""
    schemes = PersonSchemes(load_scenario_with(SHANXI))
    who = person(75, ability, econ=econ, setting=setting)
    [(cny, _)] = entitle(schemes, "family_bed_operating", [who], month_key(2024, 1))
    assert cny == paid


def test_000_8_2_lottery_rule_checked_for_zhumadian():
    """000-8-2 (≥ 55% of welfare-lottery funds for elderly services): the Zhumadian scenario now
    states the funds retained, so lottery.csv checks the rule each year for city and counties."""
    result = run_scenario(load_scenario_with(ZHUMADIAN).with_run(simulated_people=3000, years=2))
    report = result.lottery()
    assert report is not None
    assert set(report["payer_level"]) == {"city", "county"}
    assert (report["spent_on_elderly_cny"] > 0).all()
    assert (report["required_min_share"] == 0.55).all()


def test_003_6_1_ltc_insurance_benefit_paid_by_the_fund_not_the_budget():
    """003-6-1 (Tianjin's LTC pilot): the benefit is booked with funding = ltc_fund only, for insured
    severely disabled elders, so the budget lines are those without it."""
    scenario = load_scenario_with(SCENARIOS / "ninghe_allowances.toml").with_run(
        simulated_people=4000, years=1
    )
    ledger = run_scenario(scenario).ledger
    ltc = ledger[ledger["line_item"] == "ltc_insurance_benefit"]
    assert not ltc.empty and set(ltc["funding"]) == {"ltc_fund"}
    assert set(ledger[ledger["line_item"] != "ltc_insurance_benefit"]["funding"]) == {"budget"}


@pytest.mark.parametrize(
    ("setting", "econ", "ability", "paid"),
    [
        ("family_bed", "near_dibao", "mild", 300),  # 部分失能 counts (003-13-1)
        ("family_bed", "ordinary", "severe", 0),  # 经济困难 only
        ("institution", "dibao", "severe", 0),  # not a family bed
    ],
)
def test_003_13_1_family_beds_purchased_for_difficult_disabled_elders(setting, econ, ability, paid):
    schemes = PersonSchemes(load_scenario_with(SCENARIOS / "ninghe_allowances.toml"))
    who = person(75, ability, econ=econ, setting=setting)
    [(cny, _)] = entitle(schemes, "family_bed_purchase", [who], month_key(2025, 1))
    assert cny == paid


def test_funding_shares_are_dated_and_leave_totals_unchanged():
    """A funding split from 2026 (e.g. special bonds issued then, 002-四(二)-1): 2025's budget row
    stays whole, 2026's is split by the shares, and every total by year and level is unchanged."""
    from agingsim.fiscal.funding import apply_funding, parse_funding
    from agingsim.policy.dated import parse_dated

    ledger = pd.DataFrame(
        {
            "year": [2025, 2026, 2026],
            "month": [6, 6, 6],
            "line_item": ["build", "build", "other"],
            "payer_level": ["city"] * 3,
            "funding": ["budget"] * 3,
            "amount_cny": [100.0, 100.0, 50.0],
            "beneficiaries": [1.0, 1.0, 1.0],
        }
    )
    dated = parse_dated({"2026-01": {"budget": 0.25, "special_bonds": 0.75}}, parse_funding)
    out = apply_funding(ledger, {"build": dated})
    assert out[["year", "line_item", "funding", "amount_cny"]].values.tolist() == [
        [2025, "build", "budget", 100.0],
        [2026, "build", "budget", 25.0],
        [2026, "build", "special_bonds", 75.0],
        [2026, "other", "budget", 50.0],
    ]
    by = ["year", "line_item"]
    pd.testing.assert_series_equal(
        out.groupby(by)["amount_cny"].sum(), ledger.groupby(by)["amount_cny"].sum()
    )
