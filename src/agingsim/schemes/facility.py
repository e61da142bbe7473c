"""Schemes that follow facilities (补床位 / 补砖头): construction, operation, meals, carers.

Supply comes from the scenario's build plan (``[[policy.facilities]]``) until providers respond to
subsidies (the behaviour issue). Payments are fixed by the plan, so they are booked once per run:

* construction (``new_bed``, ``floor_m2``): on each opening, amount in force that month × beds or m²,
  paid in ``instalments`` in the opening year and the years after (seed 002 三(四): 分3年拨付);
* operation (``bed_month``, ``facility_year``): per bed-month or facility-year actually open, paid in
  the same or the following year (seed 002 三(四): 次年考核合格后拨付). Paid per bed whether or not
  the bed is occupied, which is the point of comparing it with demand-side schemes;
* meals (``meal_servings``): per facility-year, the tier of its average daily servings (seed 002
  三(四): 日均10至30人次 … 200人次及以上);
* carers (``carer_year``): per carer-year in post (seed 002 三(七)).

Payments falling due before the first simulated year are not booked (made before the run). Those
committed within the simulated years (a facility opened, a year operated) but falling due after the
last one are booked as liabilities at the horizon (``Ledger.liabilities``, liabilities.csv), not as
spending.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.fiscal.ledger import Ledger
from agingsim.policy.dated import Dated, month_key, parse_dated, parse_month
from agingsim.scenario.schema import FacilityPlan, FacilityScheme, MealTier, PolicySection
from agingsim.schemes.person import parse_active, parse_rate, parse_shares


def parse_money(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise ValueError(f"needs a number of CNY ≥ 0 (got {raw!r})")
    return float(raw)


def parse_servings(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise ValueError(f"needs average daily servings ≥ 0 (got {raw!r})")
    return float(raw)


def meal_tier(tiers: list[MealTier], servings: float, fractional: str = "floor") -> tuple[int, float]:
    """(tier index, yearly amount) for average daily servings; (-1, 0) below the first tier.

    A tier applies from its ``min_servings`` up to the next tier's minimum (seed 002: 10–30, 31–60,
    61–100 inclusive, over 100, 200 and over). The seed writes whole 人次; an average that is not
    whole is first made whole by the scheme's stated ``fractional_servings`` rule ("floor": 30.5 → 30;
    "round_half_up": 30.5 → 31).
    """
    whole = math.floor(servings + 0.5) if fractional == "round_half_up" else math.floor(servings)
    index = -1
    for i, tier in enumerate(tiers):
        if whole >= tier.min_servings:
            index = i
    return index, (tiers[index].amount if index >= 0 else 0.0)


def tier_label(tiers: list[MealTier], i: int) -> str:
    lo = tiers[i].min_servings
    hi = tiers[i + 1].min_servings - 1 if i + 1 < len(tiers) else None
    return f"servings_{lo:g}_{hi:g}" if hi is not None else f"servings_{lo:g}_plus"


@dataclass(frozen=True)
class Plan:
    spec: FacilityPlan
    openings: dict[int, float]  # month key → facilities opening
    county_share: np.ndarray  # facilities' split across counties
    servings: Dated[float]

    def stock(self, month: int) -> float:
        """Facilities open during ``month`` (opened in or before it)."""
        return sum(n for m, n in self.openings.items() if m <= month)


@dataclass(frozen=True)
class CompiledFacilityScheme:
    spec: FacilityScheme
    plans: list[Plan]
    amount: Dated[float] | None
    active: Dated[bool]
    payers: Dated[dict[str, float]]
    lottery: Dated[float]


def compile_facilities(
    policy: PolicySection, county_ids: list[str], county_shares: np.ndarray, path: object
) -> tuple[dict[str, Plan], list[CompiledFacilityScheme]]:
    """Check and compile the build plans and the schemes paying for them (all problems together)."""
    errors: list[ScenarioError] = []

    def fail(key: str, problem: str) -> None:
        errors.append(ScenarioError(path, key, problem))

    def dated(raw: object, convert: object, key: str) -> Dated | None:
        try:
            return parse_dated(raw, convert)
        except ValueError as exc:
            fail(key, str(exc))
            return None

    plans: dict[str, Plan] = {}
    for i, f in enumerate(policy.facilities):
        key = f"policy.facilities[{i}]"
        openings: dict[int, float] = {}
        for text, n in f.opens.items():
            try:
                m = parse_month(text)
            except ValueError as exc:
                fail(f"{key}.opens", str(exc))
                continue
            if m in openings:
                fail(f"{key}.opens", f"overlapping dates: {text} is given twice")
            openings[m] = float(n)
        if f.county is None:
            share = county_shares / county_shares.sum()
        elif f.county in county_ids:
            share = (np.array(county_ids) == f.county).astype(float)
        else:
            fail(f"{key}.county", f"unknown county '{f.county}'; known: {', '.join(county_ids)}")
            continue
        servings = dated(f.servings_per_day, parse_servings, f"{key}.servings_per_day")
        if f.id in plans:
            fail(f"{key}.id", f"duplicate facility plan id '{f.id}'")
        if servings is not None:
            plans[f.id] = Plan(f, openings, share, servings)

    compiled = []
    for i, s in enumerate(policy.facility_schemes):
        key = f"policy.facility_schemes[{i}]"
        unknown = [p for p in s.applies_to if p not in plans]
        if unknown:
            fail(f"{key}.applies_to", f"unknown facility plan(s) {unknown}; known: {', '.join(plans)}")
            continue
        amount = None
        if s.basis == "meal_servings" and not s.tiers:
            fail(f"{key}.tiers", "a meal_servings scheme needs tiers")
        elif s.basis != "meal_servings":
            if s.tiers:
                fail(f"{key}.tiers", f"tiers apply to meal_servings only, not {s.basis}")
            amount = dated(s.amount, parse_money, f"{key}.amount")
        active = dated(s.active, parse_active, f"{key}.active")
        payers = dated(s.payers, parse_shares, f"{key}.payers")
        lottery = dated(s.lottery_share, parse_rate, f"{key}.lottery_share")
        if None in (active, payers, lottery) or (amount is None and s.basis != "meal_servings"):
            continue
        plans_used = [
            plans[p] for p in s.applies_to if s.operators is None or plans[p].spec.operator in s.operators
        ]
        compiled.append(CompiledFacilityScheme(s, plans_used, amount, active, payers, lottery))
    if errors:
        raise ScenarioErrors(errors)
    return plans, compiled


class _Due:
    """Payments due, by (pay month, rule): amount and facilities per county."""

    def __init__(self, n_counties: int) -> None:
        self.n = n_counties
        self.slots: dict[tuple[int, str], list[np.ndarray]] = {}

    def add(self, pay_month: int, rule: str, amount: float, units: float, share: np.ndarray) -> None:
        slot = self.slots.setdefault((pay_month, rule), [np.zeros(self.n), np.zeros(self.n)])
        slot[0] += amount * share
        slot[1] += units * share


#: Bases paid once, when a facility opens; the others are paid for each year of operation.
CONSTRUCTION_BASES = ("new_bed", "floor_m2")


def basis_units(basis: str, plan: FacilityPlan) -> float:
    """Units of ``basis`` one facility of ``plan`` counts: its beds or floor area (construction, paid
    once), or per year of operation its bed-months, itself or its carers. Meal servings are tiered by
    the servings of the month (:func:`meal_tier`), not counted here."""
    return {
        "new_bed": plan.beds,
        "floor_m2": plan.floor_m2,
        "bed_month": plan.beds * 12,
        "facility_year": 1.0,
        "carer_year": plan.carers,
    }[basis]


def book_facility_schemes(
    schemes: list[CompiledFacilityScheme], ledger: Ledger, start_year: int, years: int
) -> None:
    """Book every facility payment that falls within the simulated years; those committed within
    them but due later become liabilities at the horizon."""
    first, last = month_key(start_year), month_key(start_year + years) - 1
    for scheme in schemes:
        s = scheme.spec
        due = _Due(len(ledger.county_ids))
        for plan in scheme.plans:
            p = plan.spec
            if s.basis in CONSTRUCTION_BASES:
                size = basis_units(s.basis, p)
                for opened, n in plan.openings.items():
                    rate = scheme.amount.at(opened) if scheme.amount else None
                    if n <= 0 or not rate or not scheme.active.at(opened):  # closures earn nothing
                        continue
                    if opened > last:  # not yet opened at the horizon: nothing committed
                        continue
                    for k, fraction in enumerate(s.instalments):
                        pay = month_key(opened // 12 + k, s.payment_month)
                        rule = f"{s.basis}_instalment_{k + 1}"
                        due.add(pay, rule, n * size * rate * fraction, n, plan.county_share)
                continue
            # operation, meals, carers: accumulate facility-months per calendar year
            lag = 1 if s.paid == "following_year" else 0
            for year in range(min(plan.openings, default=first) // 12, last // 12 + 1):
                pay = month_key(year + lag, s.payment_month)
                for cal in range(12):
                    month = month_key(year, cal + 1)
                    stock = plan.stock(month)
                    if stock == 0 or not scheme.active.at(month):
                        continue
                    if s.basis == "meal_servings":
                        servings = plan.servings.at(month) or 0.0
                        tier, yearly = meal_tier(s.tiers, servings, s.fractional_servings or "floor")
                        if tier >= 0:
                            rule = tier_label(s.tiers, tier)
                            due.add(pay, rule, stock * yearly / 12, stock / 12, plan.county_share)
                        continue
                    rate = scheme.amount.at(month) if scheme.amount else None
                    if rate:
                        units = basis_units(s.basis, p)
                        due.add(pay, s.basis, stock * units * rate / 12, stock / 12, plan.county_share)
        for (pay, rule), (amount, units) in sorted(due.slots.items()):
            shares = scheme.payers.at(pay)
            if pay < first or shares is None:
                continue
            year, cal = divmod(pay, 12)
            lottery = scheme.lottery.at(pay) or 0.0
            ledger.record(
                year, cal + 1, s.id, s.family, [rule], amount[:, None], units[:, None], shares, lottery,
                after_horizon=pay > last,
            )  # fmt: skip
