"""Issue 3 §7 / non-negotiable 6: compare runs both arms on the same synthetic people."""

from __future__ import annotations

import pandas as pd
import pytest

from agingsim.cli import main

POLICY = """
[[policy.schemes]]
id = "allowance_80"
name = "高龄津贴"
family = "allowance"
eligible = "age >= 80"
amount = { value = 100, assumption = "test" }
payers = { city = 0.6, county = 0.4, source = "test" }

[[policy.schemes]]
id = "nursing"
name = "护理补贴"
family = "allowance"
eligible = "ability >= moderate"
amount = { moderate = 100, severe = 200, complete = 300, assumption = "test" }
payers = { county = 1.0, source = "test" }
"""


@pytest.fixture
def arms(tiny_copy):
    a = tiny_copy.scenario
    a.write_text(a.read_text() + POLICY)
    b = tiny_copy.dir / "b.toml"
    b.write_text(a.read_text())
    return a, b


def run_compare(a, b, out, capsys):
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    capsys.readouterr()
    return pd.read_csv(out / "comparison.csv")


def test_a_reform_that_changes_nothing_shows_exactly_zero(arms, tmp_path, capsys):
    a, b = arms
    table = run_compare(a, b, tmp_path / "cmp", capsys)
    assert len(table) > 0
    assert (table["b_minus_a"] == 0).all()


def test_same_people_in_both_arms(arms, tmp_path, capsys):
    """Doubling the 80+ allowance doubles its cost exactly, year by year: same people, same deaths."""
    a, b = arms
    b.write_text(
        b.read_text().replace(
            'amount = { value = 100, assumption = "test" }', 'amount = { value = 200, assumption = "test" }'
        )
    )
    table = run_compare(a, b, tmp_path / "cmp", capsys).set_index(["measure", "year"])
    city = table.loc["cost_city_wan"]  # only the 80+ allowance is paid by the city
    assert city["b"].to_numpy() == pytest.approx(2 * city["a"].to_numpy())
    county = table.loc["cost_county_wan"]  # the county pays 40% of it plus all of the nursing subsidy
    nursing = county["a"] - city["a"] * 0.4 / 0.6
    assert county["b"].to_numpy() == pytest.approx((nursing + 2 * city["a"] * 0.4 / 0.6).to_numpy())


def test_arms_covering_different_years_are_compared_over_the_union(arms, tmp_path, capsys):
    """Issue 16 defect 10: A 2024-2026 against B 2025-2027 (e.g. scenarios/default.toml against
    scenarios/guiyang_service_circle.toml) compares over 2024-2027; a year one arm does not cover is an
    empty cell, not zero, and summary.json says which years each arm covers."""
    import json

    a, b = arms
    b.write_text(b.read_text().replace("start_year = 2024", "start_year = 2025"))
    out = tmp_path / "cmp"
    table = run_compare(a, b, out, capsys)
    assert sorted(table["year"].unique()) == [2024, 2025, 2026, 2027]
    cost = table[table["measure"] == "cost_total_wan"].set_index("year")
    assert pd.isna(cost.loc[2024, "b"]) and pd.isna(cost.loc[2024, "b_minus_a"]) and cost.loc[2024, "a"] > 0
    assert pd.isna(cost.loc[2027, "a"]) and cost.loc[2027, "b"] > 0
    assert cost.loc[[2025, 2026], "b_minus_a"].notna().all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["years_only_a"] == [2024] and summary["years_only_b"] == [2027]


def test_compare_prints_what_it_costs_and_whom_it_serves():
    """The product's question on the terminal: spending summed over the years both arms cover, and
    the people in need served (with shares in per cent, their difference in points) as the mean of
    those years; a year only one arm covers is left out of both, and a difference that rounds to
    nothing prints +0.0, never -0.0."""
    from agingsim.compare import summary_lines

    rows = []
    for year, a_cost, b_cost, a_served, b_served in [
        (2025, 100.0, 100.0 - 1e-9, 1000.0, 1100.0),
        (2026, 200.0, 200.0, 3000.0, 3300.0),
    ]:
        rows += [
            (year, "cost_total_wan", a_cost, b_cost),
            (year, "needing_care_served", a_served, b_served),
            (year, "needing_care_served_share", a_served / 10_000, b_served / 10_000),
        ]
    rows.append((2027, "cost_total_wan", float("nan"), 999.0))  # B alone: not in the totals
    table = pd.DataFrame(rows, columns=["year", "measure", "a", "b"])
    table["b_minus_a"] = table["b"] - table["a"]
    text = "\n".join(summary_lines(table))
    assert "2025–2026 合计" in text and "2025–2026 年均" in text
    cost = next(line for line in text.splitlines() if "Total spending" in line)
    assert cost.split()[:3] == ["300.0", "300.0", "+0.0"]  # 2027 left out; -1e-9 is +0.0
    served = next(line for line in text.splitlines() if "who get formal care" in line)
    assert served.split()[:3] == ["2,000", "2,200", "+200"]
    share = next(line for line in text.splitlines() if "Share of those in need served" in line)
    assert share.split()[:6] == ["20.0", "%", "22.0", "%", "+2.0", "pt"]
    assert "-0.0" not in text


def test_compare_with_no_common_year_says_so():
    from agingsim.compare import summary_lines

    table = pd.DataFrame(
        {
            "year": [2024, 2030],
            "measure": "cost_total_wan",
            "a": [1.0, float("nan")],
            "b": [float("nan"), 2.0],
        }
    )
    table["b_minus_a"] = table["b"] - table["a"]
    lines = summary_lines(table)
    assert lines[1] == "无共同年份 no year both arms cover (A 2024, B 2030): each arm over its own years"
    assert lines[2].split()[:3] == ["1.0", "2.0", "—"]  # each arm's own, nothing subtracted


def test_the_compare_command_prints_the_payers_spending(arms, tmp_path, capsys):
    a, b = arms
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    for words in ("City spending (10,000 CNY)", "County spending (10,000 CNY)", "Total spending"):
        line = next(line for line in out.splitlines() if words in line)
        a_, b_, d = line.split()[:3]
        assert a_ == b_ and float(a_.replace(",", "")) > 0 and d == "+0.0"  # the same reform


def test_an_arm_without_a_behaviour_model_serves_no_one_it_does_not_model():
    """Yuquan with its behaviour model against the same file without one: comparison.csv leaves the
    second arm's people served, beds and waits empty (they were 0, so B "served 900 fewer"); the
    terminal names them instead of subtracting, and the report skips their A-vs-B charts."""
    from dataclasses import replace
    from pathlib import Path

    from agingsim.compare import compare_results, overall, summary_lines
    from agingsim.scenario import load_scenario
    from agingsim.simulate import run_scenario

    path = Path(__file__).resolve().parents[1] / "scenarios" / "yuquan_home_services.toml"
    with_model = load_scenario(path).with_run(years=2, simulated_people=5000)
    a, b = run_scenario(with_model), run_scenario(replace(with_model, behaviour=None))
    table = compare_results(a, b)
    served = table[table.measure == "needing_care_served"]
    assert (served["a"] > 0).all() and served["b"].isna().all() and served["b_minus_a"].isna().all()
    cost = table[table.measure == "cost_total_wan"]
    assert cost["b"].notna().all()  # money is compared as ever
    figures = overall(table)
    a_total, b_total, d_total = figures["cost_total_wan"]
    assert a_total + d_total == pytest.approx(b_total)
    text = "\n".join(summary_lines(table))
    assert "who get formal care" not in text  # not set against an empty arm
    assert "仅A方案模拟照护服务（B方案无行为模型）" in text
    assert "only A models who is served (B names no behaviour model): needing_care," in text


def test_people_paid_for_counts_people_not_the_facilities_a_bed_subsidy_pays():
    """The headline pair in the app showed the bed-subsidy arm "paying for" about 20 people a month
    at 513,552 CNY each (B − A −512,768, green): a facility scheme's ledger beneficiaries are
    facilities (schemes.facility), and they were added to the people the voucher arm pays. Only the
    person-level schemes' lines count people (schemes.person.person_line_items): an arm of bed
    subsidies alone pays for no one, so its cost per person paid for is empty, not 0 and not huge."""
    from pathlib import Path

    from agingsim.compare import yearly_figures
    from agingsim.scenario import load_scenario
    from agingsim.schemes.person import person_line_items
    from agingsim.simulate import run_scenario

    headline = Path(__file__).resolve().parents[1] / "scenarios" / "headline"
    supply, demand = (
        run_scenario(load_scenario(headline / f"{arm}.toml").with_run(years=2, simulated_people=5000))
        for arm in ("supply_beds", "demand_vouchers")
    )
    assert person_line_items(supply.scenario.file.policy) == frozenset()
    assert (supply.ledger["beneficiaries"] > 0).any()  # facilities: not people
    fs, fd = yearly_figures(supply), yearly_figures(demand)
    assert (fs["cost_total_wan"] > 0).all() and (fs["people_served_per_month"] == 0).all()
    assert fs["cost_per_person_served_cny_per_year"].isna().all()
    lines = person_line_items(demand.scenario.file.policy)
    led = demand.ledger[demand.ledger["line_item"].isin(lines)]
    one = led.drop_duplicates(["line_item", "year", "month", "county", "rule"])
    want = one.groupby(["year", "month"])["beneficiaries"].sum().groupby("year").mean()
    pd.testing.assert_series_equal(fd["people_served_per_month"], want, check_names=False)
    assert (fd["cost_per_person_served_cny_per_year"] > 0).all()
    from agingsim.report.data import spending_by_county, spending_by_group

    groups = spending_by_group(supply.ledger, frozenset())  # the who-gains view's tables
    assert groups["beneficiaries_per_month"].isna().all() and groups["spending_wan"].gt(0).all()
    counties = spending_by_county(supply.ledger, supply.population, frozenset())
    assert (counties["beneficiaries_per_month"] == 0).all()
    assert spending_by_group(demand.ledger, lines)["beneficiaries_per_month"].gt(0).any()
