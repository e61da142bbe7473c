"""Shared pieces of every input file's shape: the strict base model, bounded number types, and the
checks several files use (unique ids, shares summing to 1).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agingsim.scenario.ranges import (
    HOURS_PER_MONTH,
    MAX_BUDGET_CNY,
    MAX_COEFFICIENT,
    MAX_MONTHLY_CNY,
    MAX_PEOPLE,
    MAX_RATIO,
    MAX_UNIT_CNY,
    Bounded,
    Range,
)

#: Published shares are often rounded: sums within this of 1 are accepted and renormalised.
SHARE_TOLERANCE = 0.005

Probability = Range(0.0, 1.0, "(a share)")
People = Range(0, MAX_PEOPLE, "people")
Money = Range(0, MAX_UNIT_CNY, "CNY")
Coefficient = Range(-MAX_COEFFICIENT, MAX_COEFFICIENT, "(utility)")
Ratio = Range(0, MAX_RATIO, "(ratio)", gt=True)
Hours = Range(0, HOURS_PER_MONTH, "hours a month")
#: Free-form parameters (a number, a table by level, dated tables) whose numbers are bounded.
Share = Bounded(0.0, 1.0, "(a share)")
MonthlyAmount = Bounded(0, MAX_MONTHLY_CNY, "CNY per person per month")
UnitAmount = Bounded(0, MAX_UNIT_CNY, "CNY per unit")
BudgetCap = Bounded(0, MAX_BUDGET_CNY, "CNY per year")


class Strict(BaseModel):
    """Base of every input file's shape: unknown keys and non-finite numbers (nan, inf) are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False)


def check_unique(ids: list, what: str) -> None:
    """Raise if any id appears twice (counties, schemes, transitions)."""
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate {what}: {', '.join(map(str, dupes))}")


def check_sums_to_one(values: list[float], what: str) -> None:
    total = float(sum(values))
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"{what} sum to {total:.4g}, not 1")
