"""The headline comparison's premise (README, scenarios/headline/): both arms spend the same money.

The voucher arm's yearly cap is set from the supply arm's measured spending (the label in
demand_vouchers.toml says how); if a change to the model moves the supply arm's spending, this test
fails and the cap must be re-set before the headline can be quoted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agingsim.compare import yearly_figures
from agingsim.scenario import load_scenario
from agingsim.simulate import run_scenario

HEADLINE = Path(__file__).resolve().parents[1] / "scenarios" / "headline"


def test_headline_arms_spend_the_same_money_over_the_run():
    totals = {}
    for arm in ("supply_beds", "demand_vouchers"):
        frame = yearly_figures(run_scenario(load_scenario(HEADLINE / f"{arm}.toml")))
        totals[arm] = frame["cost_total_wan"].sum()
    assert totals["supply_beds"] > 0
    assert totals["demand_vouchers"] == pytest.approx(totals["supply_beds"], rel=0.01)


def test_capped_vouchers_move_the_choice_only_while_the_budget_lasts(tmp_path):
    """demand_vouchers.toml: "When it runs out the eligible wait until January" — a spent budget buys
    no care, so a larger cap must bring more people in need into formal care (with the choice seeing
    the face value whatever the budget, both caps served exactly the same people)."""
    text = (HEADLINE / "demand_vouchers.toml").read_text(encoding="utf-8")
    assert "city = 3438505" in text  # the cap this test replaces (re-set with the cap itself)
    served = {}
    for cap in (1_000_000, 10_000_000):
        path = tmp_path / f"vouchers_{cap}.toml"
        path.write_text(text.replace("city = 3438505", f"city = {cap}"), encoding="utf-8")
        scenario = load_scenario(path).with_run(years=2, simulated_people=50_000)
        served[cap] = yearly_figures(run_scenario(scenario))["needing_care_served"].sum()
    assert served[10_000_000] > served[1_000_000]
