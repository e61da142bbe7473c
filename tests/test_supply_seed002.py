"""Seed 002 三(四), 三(七): supply-side subsidies from scenarios/guiyang_service_circle.toml."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agingsim.scenario import load_scenario
from agingsim.schemes.facility import meal_tier
from agingsim.simulate import run_scenario

ROOT = Path(__file__).resolve().parents[1]
WAN = 10_000


@pytest.fixture(scope="module")
def guiyang():
    # the build plan's arithmetic (seed 002 三(四)): without the behaviour model, whose operators would
    # also open and close privately built centres (tests/test_behaviour.py pins that response)
    scenario = load_scenario(ROOT / "scenarios/guiyang_service_circle.toml").with_run(simulated_people=5000)
    scenario = replace(scenario, behaviour=None)
    return scenario, run_scenario(scenario)


def cost(result, line_item, year=None, month=None, level=None):
    led = result.ledger
    led = led[led.line_item == line_item]
    if year is not None:
        led = led[led.year == year]
    if month is not None:
        led = led[led.month == month]
    if level is not None:
        led = led[led.payer_level == level]
    return led["amount_cny"].sum()


@pytest.mark.parametrize(
    ("servings", "yearly"),
    [
        (9, 0),
        (10, 10_000),
        (30, 10_000),
        (31, 20_000),
        (60, 20_000),
        (61, 30_000),
        (100, 30_000),
        (101, 50_000),
        (199, 50_000),
        (200, 100_000),
        (450, 100_000),
    ],
)
def test_meal_tiers_at_their_boundaries(guiyang, servings, yearly):
    """三(四)-8: 日均10至30、31至60、61至100(含)、100人次以上、200人次及以上 → 1/2/3/5/10万元."""
    scenario, _ = guiyang
    tiers = next(s for s in scenario.file.policy.facility_schemes if s.id == "meal_service").tiers
    assert meal_tier(tiers, servings)[1] == yearly


@pytest.mark.parametrize(
    ("servings", "yearly"),
    [(30.4, 10_000), (30.5, 20_000), (60.5, 30_000), (100.4, 30_000), (100.5, 50_000), (199.5, 100_000)],
)
def test_meal_tiers_for_a_fractional_daily_average_follow_the_scenarios_stated_rule(
    guiyang, servings, yearly
):
    """三(四)-8 (日均…31至60人次…100人次以上): the tiers are whole servings, the average need not be;
    scenarios/guiyang_service_circle.toml states (labelled) that an average counts to the nearest whole
    serving, halves up: 30.5 a day is 31至60, not 10至30."""
    scenario, _ = guiyang
    schemes = scenario.file.policy.facility_schemes
    i = next(i for i, s in enumerate(schemes) if s.id == "meal_service")
    meal = schemes[i]
    assert meal.fractional_servings == "round_half_up"
    label = scenario.provenance[f"guiyang_service_circle:policy.facility_schemes[{i}].fractional_servings"]
    assert label.kind == "assumption" and "30.5" in label.text
    assert meal_tier(meal.tiers, servings, meal.fractional_servings)[1] == yearly


def test_construction_per_bed_paid_in_three_instalments(guiyang):
    """三(四)-2, -4: 2万元 per new bed, 分3年拨付: each year's 10 new centres are paid over 3 Decembers."""
    _, result = guiyang
    per_cohort = 10 * 30 * 20_000
    assert cost(result, "construction_per_bed", 2021) == pytest.approx(per_cohort * 0.3334)
    assert cost(result, "construction_per_bed", 2023) == pytest.approx(per_cohort)  # three cohorts overlap
    assert cost(result, "construction_per_bed", 2025) == pytest.approx(per_cohort * 0.3333)
    assert cost(result, "construction_per_bed", 2026) == 0
    months = set(result.ledger[result.ledger.line_item == "construction_per_bed"]["month"])
    assert months == {12}
    total = cost(result, "construction_per_bed")
    assert total == pytest.approx(30 * 30 * 20_000)  # every new bed paid exactly once in full


def test_construction_per_m2_only_for_stations_social_forces_invest_in(guiyang):
    """三(四)-3 (大力支持社会力量…对其投资建设的…社区养老服务站按改造场所套内面积给予每平米1000元建设补助):
    the 160 stations social forces convert are paid 1,000 CNY per m²; the 160 government-built
    公建民营 stations (三(四)-1) earn nothing, although the scheme names their plan."""
    scenario, result = guiyang
    per_m2 = next(s for s in scenario.file.policy.facility_schemes if s.id == "construction_per_m2")
    plans = {f.id: f for f in scenario.file.policy.facilities}
    assert plans["stations_public_built"].operator == "public_built_private_run"
    assert "stations_public_built" in per_m2.applies_to and per_m2.operators == ["private"]
    assert cost(result, "construction_per_m2") == pytest.approx(160 * 150 * 1000)
    # every station, however built, earns the operating subsidy (三(四)-5: 对社会力量运行的)
    assert cost(result, "operating_per_station", 2027) == pytest.approx(320 * 20_000)


def test_a_construction_subsidy_is_not_paid_to_other_operators(tiny_copy):
    """三(四)-2, -3: a scheme's ``operators`` names who it pays; a government-built plan in its
    applies_to earns nothing (the mechanism, on a hand-built plan)."""
    path = tiny_copy.scenario
    path.write_text(
        path.read_text()
        + """
[[policy.facilities]]
id = "built_by_government"
type = "community_station"
name = "站"
operator = "public_built_private_run"
opens = { "2024-07" = 2, assumption = "test" }
floor_m2 = { value = 100, assumption = "test" }

[[policy.facilities]]
id = "built_by_social_forces"
type = "community_station"
name = "站"
operator = "private"
opens = { "2024-07" = 3, assumption = "test" }
floor_m2 = { value = 100, assumption = "test" }

[[policy.facility_schemes]]
id = "per_m2"
name = "建设补助"
applies_to = ["built_by_government", "built_by_social_forces"]
operators = ["private"]
basis = "floor_m2"
amount = { value = 1000, assumption = "test" }
payers = { city = 0.6, county = 0.4, source = "test" }
"""
    )
    scenario = replace(load_scenario(path), behaviour=None)
    result = run_scenario(scenario)
    assert cost(result, "per_m2") == pytest.approx(3 * 100 * 1000)


def test_operating_subsidy_is_paid_the_following_year_per_bed_occupied_or_not(guiyang):
    """三(四)-5, -6: 200元/床/月, 次年考核合格后拨付 (no payment in the first year)."""
    _, result = guiyang
    assert cost(result, "operating_per_bed", 2021) == 0
    # 20 centres open from July 2021: 6 months × 20 × 30 beds × 200, paid in June 2022
    assert cost(result, "operating_per_bed", 2022, month=6) == pytest.approx(6 * 20 * 30 * 200)
    # all 60 centres a full year: paid every year from 2025
    assert cost(result, "operating_per_bed", 2027) == pytest.approx(12 * 60 * 30 * 200)


def test_split_city_county_6_4(guiyang):
    """三(四)-10: 补贴资金由市、县两级财政按6:4比例承担; 三(七)-6: carers paid 100% by the city."""
    _, result = guiyang
    for item in ("construction_per_bed", "construction_per_m2", "operating_per_bed", "meal_service"):
        total = cost(result, item)
        assert cost(result, item, level="city") == pytest.approx(0.6 * total)
        assert cost(result, item, level="county") == pytest.approx(0.4 * total)
    assert cost(result, "carer_post_subsidy", level="city") == pytest.approx(
        cost(result, "carer_post_subsidy")
    )
    assert cost(result, "carer_post_subsidy", level="county") == 0


def test_supply_and_workforce_lines_are_labelled(guiyang):
    _, result = guiyang
    families = result.ledger.groupby("line_item")["scheme_family"].first()
    assert families["carer_post_subsidy"] == "workforce"
    assert families["operating_per_bed"] == "supply"


def test_bad_facility_input_is_a_clear_error(tiny_copy, capsys):
    from agingsim.cli import main

    path = tiny_copy.scenario
    path.write_text(
        path.read_text()
        + """
[[policy.facilities]]
id = "centres"
type = "street_centre"
name = "中心"
opens = { "2024-07" = 2, assumption = "test" }
beds = { value = 30, assumption = "test" }

[[policy.facility_schemes]]
id = "per_bed"
name = "床位补贴"
applies_to = ["centers"]
basis = "new_bed"
amount = { value = 20000, assumption = "test" }
instalments = { value = [0.5, 0.4], assumption = "test" }
payers = { city = 0.6, county = 0.4, source = "test" }
"""
    )
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "policy.facility_schemes[0].instalments: instalments sum to 0.9, not 1" in err
    path.write_text(path.read_text().replace("[0.5, 0.4]", "[0.5, 0.5]"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        "policy.facility_schemes[0].applies_to: unknown facility plan(s) ['centers']; known: centres" in err
    )


def test_payments_due_after_the_horizon_are_liabilities_not_dropped():
    """三(四)-4 (补贴资金分3年拨付) and 三(四)-6 (次年考核合格后拨付): a run ending in 2023 has paid only part of
    what it committed. The later instalments of the 2022-2023 centres and the 2023 operating subsidy
    (paid June 2024) are liabilities at the horizon: paid + owed = every new bed's 20,000 CNY."""
    scenario = load_scenario(ROOT / "scenarios/guiyang_service_circle.toml").with_run(
        simulated_people=5000, years=3
    )
    result = run_scenario(replace(scenario, behaviour=None))
    owed = result.liabilities
    assert set(owed["year_due"]) == {2024, 2025}
    beds = owed[owed.line_item == "construction_per_bed"]
    assert beds["amount_cny"].sum() + cost(result, "construction_per_bed") == pytest.approx(30 * 30 * 20_000)
    assert beds[beds.year_due == 2025]["amount_cny"].sum() == pytest.approx(10 * 30 * 20_000 * 0.3333)
    # 2023: 40 centres all year, 20 from July → (40 × 12 + 20 × 6) bed-months × 30 beds × 200, due 2024-06
    operating = owed[owed.line_item == "operating_per_bed"]
    assert set(operating["month_due"]) == {6}
    assert operating["amount_cny"].sum() == pytest.approx((40 * 12 + 20 * 6) * 30 * 200)
    assert (owed.groupby("payer_level")["amount_cny"].sum() > 0).all()
    headline = result.headline()
    assert headline["liabilities_at_horizon_wan"] == pytest.approx(owed["amount_cny"].sum() / WAN, abs=0.01)
    assert "not included in cost_total_wan" in headline["liabilities_note"]


def test_meal_tiers_without_a_stated_fractional_rule_are_an_error(tiny_copy, capsys):
    """三(四)-8: how a daily average that is not whole meets whole-serving tiers must be stated in the
    scenario, not left to the code."""
    from agingsim.cli import main

    path = tiny_copy.scenario
    path.write_text(
        path.read_text()
        + """
[[policy.facilities]]
id = "canteens"
type = "canteen"
name = "食堂"
opens = { "2024-07" = 2, assumption = "test" }
servings_per_day = { value = 30.5, assumption = "test" }

[[policy.facility_schemes]]
id = "meals"
name = "助餐补贴"
applies_to = ["canteens"]
basis = "meal_servings"
payers = { city = 0.6, county = 0.4, source = "test" }
  [[policy.facility_schemes.tiers]]
  source = "test"
  min_servings = 10
  amount = 10000
  [[policy.facility_schemes.tiers]]
  source = "test"
  min_servings = 31
  amount = 20000
"""
    )
    assert main(["validate", str(path)]) == 2
    assert "policy.facility_schemes[0]: meal tiers need fractional_servings" in capsys.readouterr().err
    path.write_text(
        path.read_text().replace(
            'basis = "meal_servings"',
            'basis = "meal_servings"\nfractional_servings = { value = "round_half_up", assumption = "test" }',
        )
    )
    result = run_scenario(replace(load_scenario(path), behaviour=None))
    # 30.5 a day counts as 31: 20,000 a year for each of the 2 canteens (paid the same year), half in 2024
    assert cost(result, "meals", 2024) == pytest.approx(2 * 20_000 * 6 / 12)
    assert cost(result, "meals", 2025) == pytest.approx(2 * 20_000)
