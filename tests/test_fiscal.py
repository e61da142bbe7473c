"""Issue 3 §1, §4, §5: dated parameters, payer splits, the ledger reconciles, bad rules are clear."""

from __future__ import annotations

import pandas as pd
import pytest

from agingsim.cli import main
from agingsim.fiscal.ledger import WAN, present_value, summarise
from agingsim.policy.dated import Dated, month_key, parse_dated
from agingsim.scenario import load_scenario
from agingsim.simulate import run_scenario

POLICY = """
[policy.fiscal]
discount_rate = { value = 0.05, assumption = "test" }

[[policy.schemes]]
id = "allowance_80"
name = "高龄津贴"
family = "allowance"
eligible = "age >= 80"
amount = { "2024-01" = 100, "2025-01" = 200, assumption = "test: doubled from 2025" }
payers = { "2024-01" = { city = 0.6, county = 0.4 }, "2025-07" = { province = 0.2, city = 0.4, county = 0.4 }, source = "test: 6 : 4 (seed 002 style), province joins mid-2025" }

[[policy.schemes]]
id = "nursing"
name = "护理补贴"
family = "allowance"
eligible = "ability >= moderate"
active = { "2024-01" = true, "2026-01" = false }
amount = { moderate = 100, severe = 200, complete = 300, assumption = "test" }
payers = { city = 1.0, source = "test" }

[[policy.schemes]]
id = "home_care"
name = "居家服务"
family = "demand"
eligible = "ability >= mild"
exclude_recipients_of = ["nursing"]
payment = "delivered"
delivery_rate = { value = 0.5, assumption = "test" }
amount = { value = 50, assumption = "test" }
payers = { city = 0.5, county = 0.5, source = "test: 1 : 1 (seed 004 style)" }
"""


@pytest.fixture
def policy_result(tiny_copy):
    path = tiny_copy.scenario
    path.write_text(path.read_text() + POLICY)
    return run_scenario(load_scenario(path))


def test_dated_values_switch_on_their_month():
    d = parse_dated({"2027-01": 300, "2024-07": 200})
    assert d.at(month_key(2024, 6)) is None  # not yet in force
    assert d.at(month_key(2024, 7)) == 200
    assert d.at(month_key(2026, 12)) == 200
    assert d.at(month_key(2027, 1)) == 300
    assert parse_dated(5) == Dated.constant(5)


def test_overlapping_dates_are_an_error():
    with pytest.raises(ValueError, match="overlapping dates: 2027-01"):
        parse_dated({"2027-1": 1, "2027-01": 2})
    with pytest.raises(ValueError, match="not a month"):
        parse_dated({"2027-13": 1, "2027-01": 2})


def test_amount_switch_over_is_visible_in_the_ledger(policy_result):
    """The 80+ allowance doubles on 2025-01: CNY per beneficiary goes from 100 to 200 that month."""
    led = policy_result.ledger
    allowance = led[led.line_item == "allowance_80"]
    amount = allowance.groupby(["year", "month"])["amount_cny"].sum()  # all payers
    # beneficiaries are repeated on each payer's row: count them once, on the city's rows
    people = allowance[allowance.payer_level == "city"].groupby(["year", "month"])["beneficiaries"].sum()
    per_person = amount / people
    assert per_person[(2024, 12)] == pytest.approx(100)
    assert per_person[(2025, 1)] == pytest.approx(200)


def test_payer_splits_sum_back_to_the_total(policy_result):
    led = policy_result.ledger
    allowance = led[led.line_item == "allowance_80"]
    month = allowance[(allowance.year == 2024) & (allowance.month == 3)]
    by_payer = month.groupby("payer_level")["amount_cny"].sum()
    total = by_payer.sum()
    assert by_payer["city"] == pytest.approx(0.6 * total)
    assert by_payer["county"] == pytest.approx(0.4 * total)
    later = (
        allowance[(allowance.year == 2025) & (allowance.month == 8)]
        .groupby("payer_level")["amount_cny"]
        .sum()
    )
    assert later["province"] == pytest.approx(0.2 * later.sum())
    home = led[led.line_item == "home_care"].groupby("payer_level")["amount_cny"].sum()
    assert home["city"] == pytest.approx(home["county"])  # 1 : 1


def test_scheme_ends_when_made_inactive(policy_result):
    led = policy_result.ledger
    nursing = led[led.line_item == "nursing"]
    assert nursing.year.max() == 2025
    # once nursing stops, its former recipients can get home care: more home-care money in 2026
    home = led[led.line_item == "home_care"].groupby("year")["amount_cny"].sum()
    assert home[2026] > 1.5 * home[2025]


def test_no_double_payment_across_excluded_schemes(policy_result, tiny_copy):
    """home_care excludes nursing recipients: in 2024 nobody moderate+ gets home care."""
    led = policy_result.ledger
    home24 = led[(led.line_item == "home_care") & (led.year == 2024) & (led.payer_level == "city")]
    nursing24 = led[(led.line_item == "nursing") & (led.year == 2024)]
    pop = policy_result.population
    mild_2024 = pop[(pop.year == 2024) & (pop.ability_level == "mild")]["people"].sum()
    # delivered to half the eligible each month: at most half the mild people, never the moderate+
    monthly_home = home24.groupby("month")["beneficiaries"].sum()
    assert (monthly_home <= 0.5 * mild_2024 * 1.1).all()
    assert not nursing24.empty


def test_delivered_schemes_pay_only_for_delivered_service(policy_result):
    led = policy_result.ledger
    home = led[(led.line_item == "home_care") & (led.payer_level == "city")]
    # 50 CNY per delivered month, city pays half: amount = 0.5 × 50 × beneficiaries
    assert home["amount_cny"].sum() == pytest.approx(25 * home["beneficiaries"].sum())


def test_ledger_reconciles_every_year(policy_result):
    """Σ over payers = Σ over line items = total, for every year."""
    led = policy_result.ledger
    by_payer = summarise(led, "payer_level").set_index("year")
    by_line = summarise(led, "line_item").set_index("year")
    total = led.groupby("year")["amount_cny"].sum() / WAN
    for year in total.index:
        payer_cols = [c for c in by_payer.columns if c != "total"]
        line_cols = [c for c in by_line.columns if c != "total"]
        assert by_payer.loc[year, payer_cols].sum() == pytest.approx(total[year])
        assert by_line.loc[year, line_cols].sum() == pytest.approx(total[year])
        assert by_payer.loc[year, "total"] == pytest.approx(by_line.loc[year, "total"])


def test_present_value_discounts_later_years():
    led = pd.DataFrame({"year": [2024, 2025], "amount_cny": [100.0, 105.0]})
    assert present_value(led, 0.05, 2024) == pytest.approx(200.0)


def test_run_writes_ledger_files(tiny_copy, capsys):
    path = tiny_copy.scenario
    path.write_text(path.read_text() + POLICY)
    out = tiny_copy.dir / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    led = pd.read_csv(out / "ledger.csv")
    assert list(led.columns) == [
        "year",
        "month",
        "line_item",
        "rule",
        "scheme_family",
        "payer_level",
        "payer_region",
        "county",
        "funding",
        "amount_cny",
        "beneficiaries",
    ]
    assert set(led.payer_region) >= {"tiny", "north", "south"}
    by_payer = pd.read_csv(out / "ledger_by_payer.csv")
    assert by_payer["total"].sum() == pytest.approx(led["amount_cny"].sum() / WAN, rel=1e-6)


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        (
            'eligible = "age >= 80"',
            'eligible = "age >= 80 and incme < 3"',
            "policy.schemes[0].eligible",
            "unknown attribute 'incme'",
        ),
        (
            'eligible = "age >= 80"',
            'eligible = "age >= 80 and __import__(1)"',
            "policy.schemes[0].eligible",
            "is not allowed",
        ),
        ("{ city = 1.0, source", "{ city = 0.9, source", "policy.schemes[1].payers", "sum to 0.9, not 1"),
        ("{ city = 1.0, source", "{ town = 1.0, source", "policy.schemes[1].payers", "unknown payer level"),
        ('"2025-01" = 200', '"2024-1" = 200', "policy.schemes[0].amount", "overlapping dates: 2024-01"),
        ("{ moderate = 100,", "{ moderat = 100,", "policy.schemes[1].amount", "unknown ability level"),
        (
            'exclude_recipients_of = ["nursing"]',
            'exclude_recipients_of = ["nursin"]',
            "policy.schemes[2].exclude_recipients_of",
            "not a scheme listed before",
        ),
        (
            'family = "demand"',
            'family = "voucher"',
            "policy.schemes[2].family",
            "Input should be 'supply', 'demand', 'allowance' or 'workforce' (got 'voucher')",
        ),
    ],
)
def test_bad_policy_is_a_clear_error(tiny_copy, capsys, old, new, key, problem):
    path = tiny_copy.scenario
    path.write_text(path.read_text() + POLICY.replace(old, new, 1))
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}: {key}:" in err, err
    assert problem in err, err


LOTTERY = """
[policy.lottery]
source = "test: retained welfare-lottery funds per year"
retained = { province = 1000000, city = 2000000 }
"""


def test_lottery_funded_share_is_booked_separately_and_checked(tiny_copy):
    """Seeds 000 二(一)8 / 001 二(三)9: ≥ 55% of lottery funds to elderly services, ≥ 70% provincial."""
    path = tiny_copy.scenario
    policy = POLICY.replace(
        'payers = { city = 1.0, source = "test" }',
        'payers = { city = 1.0, source = "test" }\nlottery_share = { value = 0.3, assumption = "test" }',
    )
    path.write_text(path.read_text() + policy + LOTTERY)
    result = run_scenario(load_scenario(path))
    led = result.ledger
    nursing = led[led.line_item == "nursing"]
    by_funding = nursing.groupby("funding")["amount_cny"].sum()
    assert by_funding["lottery"] == pytest.approx(0.3 * nursing["amount_cny"].sum())
    assert set(led[led.line_item != "nursing"]["funding"]) == {"budget"}

    report = result.lottery().set_index(["year", "payer_level"])
    spent_2024 = nursing[(nursing.year == 2024) & (nursing.funding == "lottery")]["amount_cny"].sum()
    assert report.loc[(2024, "city"), "spent_on_elderly_cny"] == pytest.approx(spent_2024)
    assert report.loc[(2024, "city"), "share"] == pytest.approx(spent_2024 / 2_000_000)
    assert report.loc[(2024, "city"), "meets_rule"] == (spent_2024 / 2_000_000 >= 0.55)
    # nothing is lottery-funded by the province: 0% < 70%, the rule is broken and reported
    assert report.loc[(2024, "province"), "required_min_share"] == 0.70
    assert not report.loc[(2024, "province"), "meets_rule"]
    headline = result.summary()["headline"]
    assert headline["lottery_rule_met_every_year"] is False
    assert "2024 province" in headline["lottery_below_minimum"]


def test_budget_cap_rations_and_reports_who_waits(tiny_copy):
    """Issue 3 §4: when a county's budget for a line runs out, eligible people wait and the report
    says so; spending never exceeds the cap, and it resumes the next year."""
    path = tiny_copy.scenario
    policy = POLICY.replace(
        'payers = { city = 1.0, source = "test" }',
        'payers = { city = 0.5, county = 0.5, source = "test" }\nbudget_cap = { county = 600000, assumption = "test: a tight county budget" }',
    )
    path.write_text(path.read_text() + policy)
    uncapped_path = tiny_copy.dir / "uncapped.toml"
    uncapped_path.write_text(
        path.read_text().replace(
            'budget_cap = { county = 600000, assumption = "test: a tight county budget" }', ""
        )
    )
    capped, uncapped = run_scenario(load_scenario(path)), run_scenario(load_scenario(uncapped_path))

    led = capped.ledger
    county_nursing = led[(led.line_item == "nursing") & (led.payer_level == "county")]
    per_county_year = county_nursing.groupby(["county", "year"])["amount_cny"].sum()
    assert (per_county_year <= 600000 + 1e-6).all()
    assert per_county_year.max() == pytest.approx(600000)  # the budget is used up, not left idle

    waiting = capped.rationing
    assert not waiting.empty and (waiting["people_waiting"] > 0).all()
    # unpaid money is exactly what the uncapped run paid beyond the cap
    full = uncapped.ledger
    full_nursing = full[full.line_item == "nursing"]["amount_cny"].sum()
    assert led[led.line_item == "nursing"]["amount_cny"].sum() + waiting["unpaid_cny"].sum() == pytest.approx(
        full_nursing
    )
    # rationing starts late in each year and payment resumes in January
    first_wait = waiting.groupby("year")["month"].min()
    assert (first_wait > 1).all()
    january = county_nursing[county_nursing.month == 1].groupby("year")["amount_cny"].sum()
    assert (january > 0).all()
    assert any("nursing 2024" in line for line in capped.summary()["headline"]["rationed"])
    # other lines are untouched by this line's cap
    other = lambda r: r.ledger[r.ledger.line_item == "allowance_80"]["amount_cny"].sum()  # noqa: E731
    assert other(capped) == pytest.approx(other(uncapped))
