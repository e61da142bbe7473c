"""Issue 19 item 3, who gains and who loses (results.distribution): spending, people entitled and
served by county, age band, ability level, economic status and residence, and, for a reform on the
same simulated people, who gains or loses an entitlement. Done-when: "the distributional table's
spending sums to the ledger's"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agingsim.results.distribution import DIMENSIONS, gains_losses, months, n_groups
from agingsim.scenario.files import project_root
from agingsim.scenario.schema import PAYER_LEVELS
from agingsim.scenario.variant import load_scenario_with
from agingsim.simulate import replay_payments, run_scenario

SCENARIOS = project_root() / "scenarios"


def small(name: str, overrides: dict | None = None, years: int = 3):
    return load_scenario_with(SCENARIOS / name, overrides).with_run(simulated_people=4000, years=years)


def recorded(scenario):
    return run_scenario(scenario, record_payments=True, record_distribution=True)


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("zhumadian_basic_services.toml", None),  # behaviour on, city : county 1 : 1
        ("zhumadian_basic_services.toml", {"policy.schemes[2].budget_cap": {"county": 20000}}),  # rationed
        ("ninghe_allowances.toml", None),  # no behaviour; registration shares, LTC fund
        ("shanxi_beds_to_vouchers.toml", None),  # vouchers from 2026
        ("headline/demand_vouchers.toml", None),  # vouchers that change care choices: no replay
    ],
)
def test_distribution_spending_sums_to_the_ledger_per_line_item_year_and_payer(name, overrides):
    result = recorded(small(name, overrides))
    dist = result.distribution()
    pay = dist.payments
    assert not pay.empty
    led = result.ledger[result.ledger["line_item"].isin(pay["line_item"].unique())]
    keys = ["year", "line_item"]
    want = led.groupby(keys)["amount_cny"].sum()
    got = pay.groupby(keys)["spending_cny"].sum().reindex(want.index, fill_value=0.0)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=0.005)  # to the fen
    for level in PAYER_LEVELS:
        want = led[led["payer_level"] == level].groupby(keys)["amount_cny"].sum()
        got = pay.groupby(keys)[f"{level}_cny"].sum().reindex(want.index, fill_value=0.0)
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=0.005)
    # people entitled and paid for agree with groups.csv (the same monthly means)
    served = result.groups_served.groupby(["year", "scheme"])[["eligible", "served"]].sum()
    mine = pay.groupby(keys)[["entitled", "served"]].sum().reindex(served.index, fill_value=0.0)
    np.testing.assert_allclose(mine.to_numpy(), served.to_numpy(), rtol=1e-9, atol=1e-6)
    # and everyone 60+ is counted once: the groups' people are the population's monthly mean
    assert dist.people["people"].sum() > 0
    assert set(dist.people.columns) == {"year", *DIMENSIONS, "people"}


def test_every_person_level_line_is_split_by_group_one_off_payments_included():
    """000-14-1's home adaptation (once per household, within a yearly quota, schemes.oneoff) is in
    the groups' table: paid only to the dispersed 特困 it names, and its spending is the ledger's."""
    result = recorded(small("zhumadian_basic_services.toml", years=4))
    spec = {s.id: s for s in result.scenario.file.policy.schemes}
    paid = set(result.ledger["line_item"]) & set(spec)
    pay = result.distribution().payments
    assert paid == set(pay["line_item"])
    once = pay[pay["line_item"] == "home_adaptation"]
    assert once["spending_cny"].sum() > 0
    assert set(once.loc[once["spending_cny"] > 0, "econ_status"]) == {"tekun_dispersed"}
    assert (once["served"] <= once["entitled"] + 1e-9).all()
    led = result.ledger[result.ledger["line_item"] == "home_adaptation"]
    want = led.groupby("year")["amount_cny"].sum()
    got = once.groupby("year")["spending_cny"].sum().reindex(want.index, fill_value=0.0)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=0.005)


def test_one_off_payments_land_in_the_age_bands_and_levels_their_rule_names():
    """Each one-off row's group is its own person's (age band, level), not its bin's neighbours'."""
    rule = "age >= 80 and tekun_dispersed and ability >= moderate"
    result = recorded(small("zhumadian_basic_services.toml", {"policy.schemes[3].eligible": rule}))
    pay = result.distribution().payments
    once = pay[(pay["line_item"] == "home_adaptation") & (pay["spending_cny"] > 0)]
    assert not once.empty
    assert set(once["age_band"]) <= {"80-84", "85+"}
    assert set(once["ability_level"]) <= {"moderate", "severe", "complete"}


def test_a_quota_that_changes_shows_who_waits_longer():
    """A smaller yearly quota (one payment lever, replayed on the same people) pays fewer
    households in the first year; nobody loses the entitlement (a quota delays, 000-14-1 excludes
    no one), so more of them are still queued for it, row by row on the same people."""
    base = recorded(small("zhumadian_basic_services.toml"))
    fewer = small("zhumadian_basic_services.toml", {"policy.schemes[3].quota": {"county": 20}})
    assert fewer.file.policy.schemes[3].id == "home_adaptation"
    replayed = replay_payments(base, fewer)
    table, same = gains_losses(base.scenario, base.distribution_bins, fewer, replayed.distribution_bins)
    assert same
    line = table[table["line_item"] == "home_adaptation"]
    first = line[line["year"] == line["year"].min()]
    assert first["spending_b_cny"].sum() < first["spending_a_cny"].sum()
    assert first["losing"].sum() == 0
    assert first["entitled_b"].sum() > first["entitled_a"].sum()
    want = replayed.ledger[replayed.ledger["line_item"] == "home_adaptation"]["amount_cny"].sum()
    assert line["spending_b_cny"].sum() == pytest.approx(want, abs=0.01)


def test_a_replayed_run_has_the_distribution_of_the_full_run():
    """Money levers are replayed on the recorded people (simulate.replay_payments): the groups' table
    is that of running the changed scenario in full."""
    base = recorded(small("ninghe_allowances.toml"))
    changed = small("ninghe_allowances.toml", {"policy.schemes[0].payers": {"city": 0.7, "county": 0.3}})
    replayed = replay_payments(base, changed).distribution()
    full = recorded(changed).distribution()
    pd.testing.assert_frame_equal(replayed.payments, full.payments, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(replayed.people, full.people)


@pytest.mark.parametrize("same_record", [True, False])
def test_a_reform_that_changes_nothing_shows_no_gain_and_no_loss(same_record):
    a = small("zhumadian_basic_services.toml")
    ra = recorded(a)
    rb = ra if same_record else recorded(small("zhumadian_basic_services.toml"))
    table, by_bin = gains_losses(a, ra.distribution_bins, rb.scenario, rb.distribution_bins)
    assert by_bin is same_record
    assert not table.empty
    assert (table["losing"] == 0).all() and (table["gaining"] == 0).all()
    assert (table["entitled_a"] == table["entitled_b"]).all()
    assert (table["spending_a_cny"] == table["spending_b_cny"]).all()


def test_an_allowance_that_stops_is_lost_by_exactly_its_recipients():
    """B stops the advanced-age allowance from 2026: under B exactly the people A paid it to lose it,
    from 2026 on, group by group; no one gains anything and no other line moves."""
    a = small("ninghe_allowances.toml")
    b = small("ninghe_allowances.toml", {"policy.schemes[0].active": {"2025-01": True, "2026-01": False}})
    ra = recorded(a)
    table, _ = gains_losses(a, ra.distribution_bins, b, ra.distribution_bins)
    assert (table["gaining"] == 0).all()
    line = table["line_item"] == "advanced_age_allowance"
    assert (table.loc[~line, "losing"] == 0).all()
    mine = table[line]
    assert (mine.loc[mine["year"] == 2025, "losing"] == 0).all()
    later = mine[mine["year"] >= 2026]
    assert later["losing"].sum() > 0
    np.testing.assert_allclose(later["losing"], later["entitled_a"], rtol=1e-12)
    assert (later["entitled_b"] == 0).all()
    assert set(later["age_band"]) <= {"80-84", "85+"}  # the allowance's own group: 80 and over


def test_an_exclusion_takes_the_allowance_from_exactly_those_who_get_both():
    """As when an allowance stops for people who get a voucher: B pays visiting care only to people
    not receiving the hardship care subsidy. The losers are the people A paid both, per group."""
    a = small("ninghe_allowances.toml")
    b = small(
        "ninghe_allowances.toml", {"policy.schemes[3].exclude_recipients_of": ["hardship_care_subsidy"]}
    )
    ra = recorded(a)
    table, by_bin = gains_losses(a, ra.distribution_bins, b, ra.distribution_bins)
    assert by_bin
    size = n_groups(len(a.region.counties))
    expected: dict[int, np.ndarray] = {}
    for month, group, weight, paid in months(a, ra.distribution_bins):
        both = (paid["visiting_care"].entitled > 0) & (paid["hardship_care_subsidy"].entitled > 0)
        counts = np.bincount(group, weights=weight * both, minlength=size)
        expected[month // 12] = expected.get(month // 12, 0) + counts / 12
    lost = table[table["line_item"] == "visiting_care"]
    assert lost["losing"].sum() > 0
    for year, counts in expected.items():
        assert lost.loc[lost["year"] == year, "losing"].sum() == pytest.approx(counts.sum(), rel=1e-12)
    assert set(lost.loc[lost["losing"] > 0, "econ_status"]) <= {"tekun_dispersed", "dibao", "near_dibao"}
    assert (table.loc[table["line_item"] != "visiting_care", "losing"] == 0).all()
    assert (table["gaining"] == 0).all()


def test_gains_and_losses_need_the_same_months():
    a = small("ninghe_allowances.toml")
    ra = recorded(a)
    rb = recorded(small("ninghe_allowances.toml", years=2))
    with pytest.raises(ValueError, match="different months"):
        gains_losses(a, ra.distribution_bins, rb.scenario, rb.distribution_bins)


def test_runs_record_no_distribution_unless_asked():
    assert run_scenario(small("ninghe_allowances.toml")).distribution() is None


def test_group_tables_add_up_and_the_payment_change_per_head_is_the_spending_change():
    """report.who: every dimension's table sums to the same spending; a money lever (the allowance
    raised) moves no entitlement, and the change per head times the group's person-months is the
    change in spending."""
    from agingsim.report.who import group_gains, group_spending

    a = small("ninghe_allowances.toml")
    b = small("ninghe_allowances.toml", {"policy.schemes[0].groups[0].amount": 300})
    ra = recorded(a)
    rb = replay_payments(ra, b)
    da, db = ra.distribution(), rb.distribution()
    totals = {dim: group_spending(da.people, da.payments, dim)["spending_wan"].sum() for dim in DIMENSIONS}
    assert max(totals.values()) == pytest.approx(min(totals.values()), rel=1e-12)
    gains, _ = gains_losses(a, ra.distribution_bins, b, rb.distribution_bins)
    for dim in DIMENSIONS:
        table = group_gains(gains, da.people, dim)
        assert set(table["line_item"]) == {"advanced_age_allowance"}
        assert (table["losing"] == 0).all() and (table["gaining"] == 0).all()
        heads = table[dim].map(da.people.groupby(dim)["people"].sum() * 12)
        change = (table["payment_change_cny_per_head_month"] * heads).sum()
        want = db.payments["spending_cny"].sum() - da.payments["spending_cny"].sum()
        assert want > 0 and change == pytest.approx(want, rel=1e-9)
