"""Payment replay (simulate.replay_payments): when a changed scenario differs from a recorded run only in
what person-level schemes pay (amounts, payer shares, budget caps, on/off dates), the people, their
care and the providers are the same, so the payments are made again from the recorded bins. The app
answers money levers this way; it must give exactly what a full run gives."""

from __future__ import annotations

import pandas as pd
import pytest

from agingsim.scenario.files import project_root
from agingsim.scenario.variant import load_scenario_with
from agingsim.simulate import dynamics_key, replay_payments, run_scenario

SCENARIOS = project_root() / "scenarios"


def small(name: str, overrides: dict | None = None):
    return load_scenario_with(SCENARIOS / name, overrides).with_run(simulated_people=4000, years=3)


def assert_same_result(replayed, full) -> None:
    for frame in ("ledger", "rationing", "groups_served", "coverage", "capacity", "population"):
        pd.testing.assert_frame_equal(getattr(replayed, frame), getattr(full, frame), check_exact=True)
    assert replayed.headline() == full.headline()


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        # behaviour on (care choice, queues, providers) and four schemes paid 1 : 1 by city and county
        ("zhumadian_basic_services.toml", {"policy.schemes[0].amount": 180}),
        ("zhumadian_basic_services.toml", {"policy.schemes[1].amount.severe": 450}),
        ("zhumadian_basic_services.toml", {"policy.schemes[2].budget_cap": {"county": 20000}}),
        ("zhumadian_basic_services.toml", {"policy.schemes[3].active": False}),
        # a one-off scheme's quota (seed 000 §14 home adaptation, schemes.oneoff)
        ("zhumadian_basic_services.toml", {"policy.schemes[3].quota": {"county": 40}}),
        # no behaviour model; a different payer split
        ("ninghe_allowances.toml", {"policy.schemes[0].payers": {"city": 0.7, "county": 0.3}}),
    ],
)
def test_replayed_payments_equal_a_full_run(name, overrides):
    base = run_scenario(small(name), record_payments=True)
    changed = small(name, overrides)
    replayed = replay_payments(base, changed, base_key="base")
    assert_same_result(replayed, run_scenario(changed))
    assert not replayed.ledger.equals(base.ledger)  # the lever did change the money
    assert replayed.summary()["payments_replayed_on"] == "base"


@pytest.mark.parametrize(
    "overrides",
    [
        {"policy.schemes[0].eligible": "age >= 85"},  # who is eligible: a different rule grid
        {"run.start_year": 2026},
        {"run.seed": 8},
    ],
)
def test_anything_beyond_payment_terms_needs_a_full_run(overrides):
    base = run_scenario(small("zhumadian_basic_services.toml"), record_payments=True)
    changed = small("zhumadian_basic_services.toml", overrides)
    assert dynamics_key(changed) != base.payments.key
    with pytest.raises(ValueError, match="more than payment terms"):
        replay_payments(base, changed)


def test_vouchers_that_change_care_choices_are_never_replayed():
    """Seed 001's voucher lowers the net price of the settings it pays for, so its amount changes who
    chooses what (issue 4): no replay, and no bins are recorded."""
    scenario = small("headline/demand_vouchers.toml")
    assert dynamics_key(scenario) is None
    assert run_scenario(scenario, record_payments=True).payments is None
