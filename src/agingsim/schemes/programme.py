"""Fixed programme lines: amounts a seed gives per year, not per person or facility.

Seed 001 §15 (8,000,000 + 2,000,000 CNY a year of provincial sports-lottery funds for fitness
equipment), §24 (10,000,000 CNY a year provincial talent fund), seed 002 三(七) (a 3,000 CNY one-off
award per carer, at least 500 trainees a year): each is ``amount`` CNY per unit × ``units`` a year,
booked once a year in ``payment_month`` while ``active``. Both are dated parameters, so a line can
start, stop or change size. Where the money comes from beside the budget (sports lottery, special
bonds, …) is said by ``[policy.funding]`` (fiscal.funding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.fiscal.ledger import Ledger
from agingsim.policy.dated import Dated, month_key, parse_dated
from agingsim.scenario.schema import PolicySection, Programme
from agingsim.schemes.facility import parse_money
from agingsim.schemes.person import parse_active, parse_shares


def parse_units(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise ValueError(f"needs a number of units a year ≥ 0 (got {raw!r})")
    return float(raw)


@dataclass(frozen=True)
class CompiledProgramme:
    spec: Programme
    amount: Dated[float]
    units: Dated[float]
    active: Dated[bool]
    payers: Dated[dict[str, float]]
    county_share: np.ndarray


def compile_programmes(
    policy: PolicySection, county_ids: list[str], county_shares: np.ndarray, path: object
) -> list[CompiledProgramme]:
    """Check and compile every programme line (all problems together, naming their keys)."""
    errors: list[ScenarioError] = []
    out = []
    ids = [*(s.id for s in policy.schemes), *(s.id for s in policy.facility_schemes)]
    for i, p in enumerate(policy.programmes):
        key = f"policy.programmes[{i}]"
        parsed = {}
        for name, convert in (
            ("amount", parse_money),
            ("units", parse_units),
            ("active", parse_active),
            ("payers", parse_shares),
        ):
            try:
                parsed[name] = parse_dated(getattr(p, name), convert)
            except ValueError as exc:
                errors.append(ScenarioError(path, f"{key}.{name}", str(exc)))
        if p.id in ids:
            errors.append(ScenarioError(path, f"{key}.id", f"'{p.id}' is already a scheme's id"))
        ids.append(p.id)
        if p.county is None:
            share = county_shares / county_shares.sum()
        elif p.county in county_ids:
            share = (np.array(county_ids) == p.county).astype(float)
        else:
            problem = f"unknown county '{p.county}'; known: {', '.join(county_ids)}"
            errors.append(ScenarioError(path, f"{key}.county", problem))
            continue
        if len(parsed) == 4:
            out.append(CompiledProgramme(p, county_share=share, **parsed))
    if errors:
        raise ScenarioErrors(errors)
    return out


def book_programmes(programmes: list[CompiledProgramme], ledger: Ledger, start_year: int, years: int) -> None:
    """Book each line's yearly payment in every simulated year it is active."""
    for prog in programmes:
        p = prog.spec
        for year in range(start_year, start_year + years):
            month = month_key(year, p.payment_month)
            amount, units = prog.amount.at(month), prog.units.at(month)
            shares = prog.payers.at(month)
            if not prog.active.at(month) or not amount or not units or shares is None:
                continue
            cny = (amount * units * prog.county_share)[:, None]
            counted = (units * prog.county_share)[:, None]
            ledger.record(year, p.payment_month, p.id, p.family, [p.unit], cny, counted, shares)
