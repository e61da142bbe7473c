"""Seed 001 二(三)8: the switch from supply-side (补床位) to demand-side (服务券) support."""

from __future__ import annotations

from pathlib import Path

import pytest

from agingsim.scenario import load_scenario
from agingsim.simulate import run_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shanxi():
    scenario = load_scenario(ROOT / "scenarios/shanxi_beds_to_vouchers.toml")
    return run_scenario(scenario.with_run(simulated_people=20_000, years=4)).ledger


def by_year(ledger, item):
    return ledger[ledger.line_item == item].groupby("year")["amount_cny"].sum()


def test_no_new_bed_subsidy_commitments_after_the_switch(shanxi):
    """Beds opened from 2026 get no construction subsidy; 2024-25 openings are paid out in full."""
    construction = by_year(shanxi, "bed_construction")
    assert construction.get(2027, 0.0) == 0.0
    assert construction.sum() == pytest.approx(2 * 300 * 10 * 10_000)  # two subsidised cohorts


def test_operating_subsidy_covers_only_bed_months_before_the_switch(shanxi):
    operating = by_year(shanxi, "bed_operating")
    assert operating.get(2024, 0.0) == 0.0  # paid the following year
    assert operating[2025] == pytest.approx(12 * 300 * 10 * 100)  # 2024's beds, paid in 2025
    assert operating[2026] == pytest.approx(12 * 600 * 10 * 100)  # 2025's beds, paid in 2026
    assert operating.get(2027, 0.0) == 0.0  # 2026 bed-months are not subsidised


def test_vouchers_start_on_the_switch_date(shanxi):
    vouchers = shanxi[shanxi.line_item == "service_voucher"]
    assert vouchers[["year", "month"]].min().tolist() == [2026, 1]
    assert (vouchers.scheme_family == "demand").all()


def test_voucher_holders_do_not_also_get_the_cash_service_subsidy(shanxi):
    """No double payment: the cash subsidy excludes voucher recipients once vouchers start."""
    cash = shanxi[(shanxi.line_item == "hardship_service_subsidy") & (shanxi.payer_level == "city")]
    people = cash.groupby(["year", "month"])["beneficiaries"].sum()
    assert people[(2026, 1)] < people[(2025, 12)]


def test_province_units_are_cities(shanxi):
    """Shanxi's sub-units are prefecture cities: the city payer is each city, the province pays the rest."""
    assert set(shanxi[shanxi.payer_level == "province"]["payer_region"]) == {"山西省"}
    assert "taiyuan" in set(shanxi[shanxi.payer_level == "city"]["payer_region"])
