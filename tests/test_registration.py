"""Registered vs resident population (户籍 vs 常住, schemes.registration), pinned on seed 004 三's
registration requirement (具有玉泉区户籍, 004-三(一)-0 and 004-三(二)-0)."""

from __future__ import annotations

import pandas as pd
import pytest

from agingsim.errors import ScenarioErrors
from agingsim.scenario.files import project_root
from agingsim.scenario.variant import load_scenario_with
from agingsim.schemes.monthly import PersonSchemes
from agingsim.simulate import run_scenario

YUQUAN = project_root() / "scenarios/yuquan_home_services.toml"


def ledger(overrides=None) -> pd.DataFrame:
    scenario = load_scenario_with(YUQUAN, overrides).with_run(simulated_people=4000, years=1)
    return run_scenario(scenario).ledger


def test_004_三_registration_required_pays_only_the_registered_share_of_residents():
    """Both Yuquan schemes require local 户籍: with 90% of resident elders registered (the
    scenario's assumption), they pay and count exactly 90% of what all residents would get."""
    registered, everyone = ledger(), ledger({"policy.registration.share": 1.0})
    for column in ("amount_cny", "beneficiaries"):
        ratio = registered.groupby("line_item")[column].sum() / everyone.groupby("line_item")[column].sum()
        assert ratio.to_dict() == pytest.approx({"home_services": 0.9, "meal_service": 0.9})


def test_schemes_not_listed_pay_all_residents():
    """000-3-1 ties services to the resident population: a scheme not listed ignores registration."""
    only_home = ledger({"policy.registration.schemes": ["home_services"]})
    everyone = ledger({"policy.registration.share": 1.0})
    meal = only_home[only_home["line_item"] == "meal_service"]["amount_cny"].sum()
    assert meal == pytest.approx(everyone[everyone["line_item"] == "meal_service"]["amount_cny"].sum())


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"policy.registration.share": 1.5}, r"policy.registration.share: yuquan: must be in \[0, 1\]"),
        ({"policy.registration.schemes": ["no_such"]}, "unknown scheme"),
        ({"policy.registration.share": {"elsewhere": 0.9}}, "needs a share for each county"),
    ],
)
def test_bad_registration_is_a_file_key_problem_error(overrides, problem):
    with pytest.raises(ScenarioErrors, match=problem):
        PersonSchemes(load_scenario_with(YUQUAN, overrides))
