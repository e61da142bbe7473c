"""Behaviour (issue 4): elders' care choice, providers' investment, admission queues, delivery.

Unit tests pin each mechanism on hand-built numbers (direction and size); the run tests check the
invariants of a whole run of the tiny world with the behaviour model on: beds never over-filled,
nobody in two places, waits non-negative and the queue conserved.
"""

from __future__ import annotations

import math
from dataclasses import replace

import mesa
import numpy as np
import pytest

from agingsim.choice.mnl import (
    HOME,
    INSTITUTION,
    N_SETTINGS,
    ChoiceInputs,
    CompiledChoice,
    probabilities,
    utilities,
)
from agingsim.errors import ScenarioError
from agingsim.model import AgingModel
from agingsim.population.attributes import CARE_SETTINGS, DEAD
from agingsim.providers.agents import BedProvider, growth_share, profit_per_bed_year, required_per_bed_year
from agingsim.scenario import load_scenario
from agingsim.scenario.files import read_toml
from agingsim.services.admission import admit
from agingsim.services.care_system import compile_priority
from agingsim.simulate import run_scenario
from tests.conftest import ROOT
from tests.people_builder import person

BEHAVIOUR = ROOT / "calibration" / "behaviour" / "default.toml"


def behaviour_file():
    from agingsim.scenario.files import load_labelled
    from agingsim.scenario.schema import BehaviourFile

    return load_labelled(BEHAVIOUR, BehaviourFile)[0]


@pytest.fixture
def tiny_behaviour(tiny_copy):
    tiny_copy(
        "tiny.toml",
        'ability_model = "',
        f'behaviour = "{BEHAVIOUR}"\nability_model = "',
    )
    return tiny_copy


# ---------------------------------------------------------------- the choice model


def inputs(n: int, price_institution: float, econ: int = 4) -> ChoiceInputs:
    net = np.zeros((n, N_SETTINGS))
    net[:, INSTITUTION] = price_institution
    net[:, HOME] = 960.0
    return ChoiceInputs(
        ability=np.full(n, 3),  # severe
        family=np.zeros(n, dtype=np.int64),
        econ=np.full(n, econ),
        current=np.zeros(n, dtype=np.int64),
        net_price=net,
        wait_months=np.zeros(n),
        unmet_share=np.zeros(n),
        distance_km=np.zeros(n),
    )


def test_price_rise_lowers_take_up_by_the_logit_derivative():
    """dP_j/dprice_j = β·P_j·(1−P_j): a 100 CNY rise in the institution price lowers its share by that."""
    model = CompiledChoice.from_file(behaviour_file())
    p0 = probabilities(utilities(model, inputs(1, 4800.0)))[INSTITUTION, 0]
    p1 = probabilities(utilities(model, inputs(1, 4900.0)))[INSTITUTION, 0]
    pm = probabilities(utilities(model, inputs(1, 4850.0)))[INSTITUTION, 0]  # the derivative at the midpoint
    beta = model.price[4] / 1000.0  # ordinary families, per CNY
    assert p1 < p0
    assert p1 - p0 == pytest.approx(beta * 100 * pm * (1 - pm), rel=0.002)


def test_poorer_families_respond_more_to_price():
    """price_per_1000: dibao families' take-up falls more for the same price rise than ordinary ones'."""
    model = CompiledChoice.from_file(behaviour_file())

    def drop(econ: int) -> float:
        a = probabilities(utilities(model, inputs(1, 4000.0, econ)))[INSTITUTION, 0]
        b = probabilities(utilities(model, inputs(1, 4500.0, econ)))[INSTITUTION, 0]
        return (a - b) / a

    assert drop(2) > drop(4) > 0  # 2 = dibao, 4 = ordinary


def test_baseline_shares_match_the_margins_they_were_solved_from():
    """The ASCs reproduce china_2020's care-setting shares for ordinary families at list prices."""
    b = behaviour_file()
    model = CompiledChoice.from_file(b)
    x = inputs(1, b.prices.institution_private["severe"])
    x.net_price[:, CARE_SETTINGS.index("family_bed")] = b.prices.family_bed["severe"]
    x.net_price[:, CARE_SETTINGS.index("day_care")] = b.prices.day_care
    x.net_price[:, HOME] = b.needs.hours_per_month["severe"] * b.prices.home_service_hour
    p = probabilities(utilities(model, x))[:, 0]
    # the margins' row for ordinary severe people, with the institution odds moved by the fitted shift
    # of the institution constants (−0.45, calibration/behaviour/default.toml [choice.asc])
    margins = read_toml(ROOT / "calibration" / "margins" / "china_2020.toml")
    row = next(
        r["p"]
        for r in margins["attributes"]["care_setting"]["rows"]
        if r["econ"] == "ordinary" and r["ability"] == "severe"
    )
    odds = np.array(row, dtype=float)
    odds[INSTITUTION] *= math.exp(-0.45)
    assert p == pytest.approx(odds / odds.sum(), abs=0.002)


def _scenarios_with_behaviour() -> list:
    """Every bundled scenario with a behaviour model (the report's own list of them)."""
    from agingsim.calibration.report_market import bundled_behaviour_scenarios

    return [pytest.param(f, id=f"{f.parent.name}/{f.stem}") for f in bundled_behaviour_scenarios()]


def test_headline_behaviour_is_default_with_the_stock_net_of_the_arms_private_homes():
    """Issue 15: the headline arms' 20 private homes × 100 beds opened before the start are part of
    the bed stock the national rate (17.42 per 1,000) counts, not beds on top of it. Their behaviour
    file is default.toml line for line except the starting beds per 1,000 (the national rate less
    those 2,000 beds at Zhumadian's people 60+ on the first day) and the public share (public beds
    still 45% of all beds)."""
    from agingsim.population.synth import Synthesiser

    folder = ROOT / "calibration" / "behaviour"
    default = (folder / "default.toml").read_text(encoding="utf-8").splitlines()
    headline = (folder / "headline_zhumadian.toml").read_text(encoding="utf-8").splitlines()
    body = lambda lines: [ln for ln in lines if not ln.startswith("#")]  # noqa: E731
    changed = {a.split(" =")[0] for a, b in zip(body(default), body(headline), strict=True) if a != b}
    assert changed == {"institution_beds_per_1000", "public_bed_share"}
    base = read_toml(folder / "default.toml")["supply"]
    mine = read_toml(folder / "headline_zhumadian.toml")["supply"]
    for arm in ("supply_beds", "demand_vouchers"):
        scenario = load_scenario(ROOT / "scenarios" / "headline" / f"{arm}.toml")
        plan = next(f for f in scenario.file.policy.facilities if f.id == "private_homes")
        named = sum(plan.opens.values()) * plan.beds
        pop60 = Synthesiser.from_scenario(scenario).start_60plus
        rate = base["institution_beds_per_1000"]["value"]
        assert mine["institution_beds_per_1000"]["value"] == pytest.approx(
            rate - 1000 * named / pop60, abs=0.01
        )
        public = base["public_bed_share"]["value"] * rate
        assert mine["public_bed_share"]["value"] * mine["institution_beds_per_1000"][
            "value"
        ] == pytest.approx(public, rel=0.002)


@pytest.mark.parametrize("path", _scenarios_with_behaviour())
def test_starting_institution_occupancy_is_the_bulletins(path):
    """Issue 15: each bundled scenario with behaviour starts with institution residents / beds at the
    occupancy the civil-affairs figures imply (2.15 million residents in 4.29 million beds, MCA mid-2020;
    calibration/data/care_market_bulletins.csv), within the report's tolerance (±3 pp,
    report_market.OCCUPANCY_TOLERANCE). That tolerance is the Monte Carlo error of 200,000 simulated
    people (one SE ≈ 1.2 pp); scenarios with fewer people (85,000-95,000) get no wider band. Each
    scenario keeps its own simulated_people (a smaller run would widen the error past the tolerance)
    and runs 1 year: occupancy is read on the first day."""
    import pandas as pd

    from agingsim.calibration.report_market import OCCUPANCY_TOLERANCE, starting_occupancy

    data = pd.read_csv(ROOT / "calibration" / "data" / "care_market_bulletins.csv")
    rows = data.set_index(["indicator", "year"])["value"]
    bulletin = rows[("institution_residents", 2020.5)] / rows[("institution_beds_registered", 2020.5)]
    assert bulletin == pytest.approx(rows[("institution_occupancy", 2020.5)], abs=1e-4)
    scenario = load_scenario(path).with_run(years=1)
    assert starting_occupancy(scenario) == pytest.approx(bulletin, abs=OCCUPANCY_TOLERANCE)


# ---------------------------------------------------------------- providers


def test_operating_subsidy_raises_investment_by_the_stated_rule():
    """A 500 CNY per bed-month operating subsidy raises a private operator's yearly expansion, and by
    exactly max_growth·(1−exp(−sensitivity·(profit/required − 1)))."""
    b = behaviour_file()
    inv = b.investment
    prices = np.full(5, 3800.0)

    def decide(subsidy: float) -> float:
        provider = BedProvider(
            mesa.Model(), 0, INSTITUTION, "private", prices, lambda m: 1000.0,
            responsive=True, operating_subsidy=lambda m: subsidy,
        )  # fmt: skip
        for _ in range(12):
            provider.observe(700.0, 700.0 * 3800.0)  # 70% occupied all year
        return provider.decide(12, inv)

    without, with_subsidy = decide(0.0), decide(500.0)
    assert with_subsidy > without >= 0
    profit = profit_per_bed_year(0.7, 3800.0, inv, 500.0)
    required = required_per_bed_year(inv, 0.0)
    expected = inv.max_growth * (1 - math.exp(-inv.sensitivity * (profit / required - 1)))
    assert with_subsidy == pytest.approx(1000.0 * expected)


def test_an_operator_counts_each_facility_subsidy_per_bed_in_the_units_the_ledger_pays():
    """Seed 002 三(四) and 三(七) in Guiyang: a privately built street centre (30 beds, 10 carers) is paid
    20,000 per new bed once, then each month 200 per bed and the carers' post subsidy (1,000 a
    carer-year) spread over its beds; meals are paid by servings, not per bed."""
    from agingsim.policy.dated import month_key
    from agingsim.scenario.files import project_root
    from agingsim.schemes.facility import compile_facilities
    from agingsim.services.care_system import _per_bed

    sc = load_scenario(project_root() / "scenarios" / "guiyang_service_circle.toml")
    shares = np.array([c.share_60plus for c in sc.region.counties])
    plans, schemes = compile_facilities(sc.file.policy, [c.id for c in sc.region.counties], shares, sc.path)
    plan = plans["centres_private_built"]
    paying = [s for s in schemes if plan in s.plans]
    month = month_key(2023, 7)
    assert _per_bed(paying, plan, month, construction=True) == pytest.approx(20_000)
    assert _per_bed(paying, plan, month, construction=False) == pytest.approx(200 + 1_000 * 10 / 12 / 30)


def test_construction_subsidy_lowers_the_return_a_bed_must_earn():
    inv = behaviour_file().investment
    assert required_per_bed_year(inv, 20000.0) == pytest.approx(
        (inv.capital_cost_per_bed - 20000) / inv.payback_years
    )
    profit = required_per_bed_year(inv, 0.0) * 1.05
    assert growth_share(profit, required_per_bed_year(inv, 20000.0), inv) > growth_share(
        profit, required_per_bed_year(inv, 0.0), inv
    )


def test_empty_loss_making_beds_close():
    inv = behaviour_file().investment
    provider = BedProvider(
        mesa.Model(), 0, INSTITUTION, "private", np.full(5, 2000.0), lambda m: 1000.0,
        responsive=True,
    )  # fmt: skip
    for _ in range(12):
        provider.observe(200.0, 200.0 * 2000.0)  # 20% occupied
    assert provider.decide(12, inv) == pytest.approx(-1000.0 * inv.closure_rate)
    assert provider.beds(13) == pytest.approx(1000.0 * (1 - inv.closure_rate))


# ---------------------------------------------------------------- the admission queue


def test_public_beds_follow_the_priority_order_of_seed_000_section_15():
    """000-15-2: policy-guaranteed first, then the listed groups in order, first come first served
    within a group; private beds then take the rest first come, first served."""
    # six people waiting in county 0; priority groups 0 (集中供养) … 5 (others); joined in months 9, 1, 5, 2, 0, 3
    priority = np.array([5, 1, 0, 1, 5, 3], dtype=np.int8)
    joined = np.array([9, 1, 5, 2, 0, 3])
    pid = np.arange(6)
    county = np.zeros(6, dtype=np.int64)
    # provider 0 is public with 3 free beds, provider 1 private with 2
    got, where = admit(np.ones(6), county, priority, joined, pid, [[0]], [[1]], np.array([3.0, 2.0]))
    assert list(got[where == 0]) == [2, 1, 3]  # group 0, then group 1 by arrival (month 1 before 2)
    assert list(got[where == 1]) == [4, 5]  # private: first come (month 0, then 3); pid 0 joined at 9 waits


def test_counties_admit_only_to_their_own_beds():
    """Queues are per county: a free bed in one county does not take someone waiting in another."""
    county = np.array([0, 0, 1])
    got, where = admit(
        np.ones(3), county, np.zeros(3, dtype=np.int8), np.arange(3), np.arange(3), [[0], [1]], [[], []],
        np.array([0.0, 5.0]),
    )  # fmt: skip
    assert list(got) == [2] and list(where) == [1]


def test_a_bed_is_never_over_filled_by_a_person_who_does_not_fit():
    weight = np.array([2.0, 2.0, 1.0])
    got, where = admit(
        weight, np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int8), np.arange(3), np.arange(3),
        [[0, 1]], [[]], np.array([3.0, 2.0]),
    )  # fmt: skip
    occupied = np.bincount(where, weights=weight[got], minlength=2)
    assert (occupied <= [3.0, 2.0]).all()
    assert list(got) == [0, 1, 2] and list(where) == [0, 1, 0]  # 1 does not fit in 0 → goes to 1; 2 fits in 0


def test_priority_groups_are_the_first_matching_rule(tiny_scenario):
    grid, group, names = compile_priority(behaviour_file(), {}, 105, "x")
    assert names[0] == "policy_guaranteed" and names[-1] == "others"

    people = [
        person(age=85, econ="tekun_centralised"),  # 集中供养 → 0 even though also 80+
        person(age=70, econ="dibao", ability="severe"),  # difficult and disabled → 1
        person(age=82),  # 80+ → 2
        person(age=70, flags=("fp_special",)),  # → 3
        person(age=65, flags=("veteran_family",)),  # → 4
        person(age=65),  # others → 5
    ]
    cols = {k: np.array([p[k] for p in people]) for k in people[0]}
    assert list(group[grid.cells(cols)]) == [0, 1, 2, 3, 4, 5]


# ---------------------------------------------------------------- a whole run


def test_a_run_keeps_beds_within_capacity_and_everyone_in_one_place(tiny_behaviour):
    scenario = load_scenario(tiny_behaviour.scenario)
    model = AgingModel(scenario)
    care = model.care
    while model.running:
        model.step()
        if not model.running:
            break
        p = model.people
        alive = p.ability != DEAD
        mk = care.start_key + model.month - 1
        occupied = np.bincount(p.provider[alive & (p.provider >= 0)], weights=p.weight[alive & (p.provider >= 0)],
                               minlength=len(care.providers))  # fmt: skip
        beds = np.array([q.beds(mk) for q in care.providers])
        assert (occupied <= beds + 1e-6).all(), "a provider holds more people than beds"
        holders = alive & (p.provider >= 0)
        setting = p.care_setting[holders]
        kind = care.provider_setting[p.provider[holders]]
        assert (setting == kind).all(), "a place-holder's setting differs from the place held"
        in_bed = np.zeros(len(holders), dtype=bool)
        in_bed[holders] = care.provider_setting[p.provider[holders]] == INSTITUTION
        assert not (in_bed & (p.wait_since >= 0)).any(), "someone holds a bed and waits for one"
        assert (p.wait_since[p.wait_since >= 0] <= model.month - 1).all()
    frames = care.frames()
    waiting = frames["waiting"]
    assert (waiting[["arrivals", "admissions", "left", "still_waiting"]] >= 0).all().all()
    assert (waiting["mean_wait_months"].dropna() >= 0).all()
    # conservation over the run: everyone who joined a queue was admitted, left it, or still waits
    last = waiting["year"].max()
    total = waiting[["arrivals", "admissions", "left"]].sum()
    still = waiting.loc[waiting["year"] == last, "still_waiting"].sum()
    assert total["arrivals"] > 0
    assert total["arrivals"] == pytest.approx(total["admissions"] + total["left"] + still, rel=1e-9)
    # coverage adds up to the population in every year and county
    cov = frames["coverage"].groupby(["year", "county"])["people_all"].sum()
    cap = frames["capacity"].set_index(["year", "county"])
    assert (cap["occupied"] <= cap["beds"] + 1e-6).all()
    assert cov.sum() > 0


def test_voucher_is_paid_only_for_services_delivered(tiny_behaviour):
    """A voucher that `uses` home services pays people using them, times the share of hours carers
    delivered; people in other settings get nothing (seed 004: paid on services recorded as delivered)."""
    tiny_behaviour(
        "tiny.toml",
        "[population]",
        """[[policy.schemes]]
id = "home_voucher"
name = "居家服务券"
family = "demand"
eligible = "age >= 60 and ability >= moderate"
payment = "delivered"
uses = ["home_services"]
amount = { value = 500, assumption = "test" }
payers = { city = 1.0, assumption = "test" }

[population]""",
    )
    text = tiny_behaviour.scenario.read_text(encoding="utf-8")
    head, tail = text.split("[[policy.schemes]]", 1)
    policy, population = tail.split("[population]", 1)
    tiny_behaviour.scenario.write_text(
        head + "[population]" + population + "\n[[policy.schemes]]" + policy, encoding="utf-8"
    )
    scenario = load_scenario(tiny_behaviour.scenario)
    model = AgingModel(scenario)
    model.step()
    p, care = model.people, model.care
    using = (p.ability >= 2) & (p.ability != DEAD) & (p.care_setting == HOME)
    delivered = care.delivered[p.county[using], HOME]
    expected = float((p.weight[using] * 500.0 * delivered).sum())
    assert 0 < delivered.min() <= delivered.max() <= 1
    ledger = model.ledger.frame()
    assert ledger["amount_cny"].sum() == pytest.approx(expected, rel=1e-5)


def test_uses_requires_payment_on_delivery(tiny_behaviour):
    tiny_behaviour(
        "tiny.toml",
        "[population]",
        "[population]",
    )
    text = (
        tiny_behaviour.scenario.read_text(encoding="utf-8")
        + """
[[policy.schemes]]
id = "voucher"
name = "券"
family = "demand"
uses = ["home_services"]
delivery_rate = { value = 0.5, assumption = "test" }
amount = { value = 100, assumption = "test" }
payers = { city = 1.0, assumption = "test" }
"""
    )
    tiny_behaviour.scenario.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(tiny_behaviour.scenario)
    message = str(err.value)
    assert "policy.schemes[0].payment" in message and "policy.schemes[0].delivery_rate" in message


def test_an_unchanged_reform_shows_exactly_zero_difference_with_behaviour_on(tiny_behaviour):
    """Common random numbers hold through choice and queues: the same scenario twice is identical."""
    scenario = load_scenario(tiny_behaviour.scenario)
    a, b = run_scenario(scenario), run_scenario(replace(scenario))
    for name in ("coverage", "capacity", "waiting", "population"):
        assert getattr(a, name).equals(getattr(b, name)), name
