"""Physical ranges of the inputs' numbers: one place that says what a believable value is.

Every number a user types is checked twice: it must be finite (TOML allows ``nan`` and ``inf``, and
``raw < 0`` is false for NaN, so a NaN amount would silently pay nothing), and it must lie within a
stated physical range, given in the error message. The ranges are generous bounds of what is
physically possible (no county has a billion people over 60, no care subsidy is a million CNY a
month), not plausibility judgements: their job is to refuse typos and absurd values (``1e15``
entrants would allocate petabytes) before anything is allocated or run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from pydantic import AfterValidator


def fmt_bound(x: float) -> str:
    """``1e8`` → ``100,000,000``; ``0.5`` → ``0.5``."""
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:g}"


def range_text(lo: float, hi: float, unit: str = "", *, gt: bool = False) -> str:
    left = "(" if gt else "["
    text = f"{left}{fmt_bound(lo)}, {fmt_bound(hi)}]"
    return f"{text} {unit}".rstrip()


def check_number(value: Any, lo: float, hi: float, unit: str = "", *, gt: bool = False) -> str | None:
    """The problem with one number (None if it is fine)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return f"must be a finite number in {range_text(lo, hi, unit, gt=gt)}"
    if value < lo or (gt and value == lo) or value > hi:
        return f"out of range: must be in {range_text(lo, hi, unit, gt=gt)}"
    return None


def _in_range(lo: float, hi: float, unit: str, gt: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        problem = check_number(value, lo, hi, unit, gt=gt)
        if problem:
            raise ValueError(problem)
        return value

    return check


def Range(lo: float, hi: float, unit: str = "", *, gt: bool = False, integer: bool = False) -> Any:
    """A float (or int) field within ``[lo, hi]`` (``(lo, hi]`` with ``gt``); the message gives both."""
    return Annotated[int if integer else float, AfterValidator(_in_range(lo, hi, unit, gt))]


def numbers_in(value: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every number (not bool) inside a nested value, with its key path below ``where``."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from numbers_in(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from numbers_in(v, f"{where}[{i}]")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield where, value


def _nested_in_range(lo: float, hi: float, unit: str, gt: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        problems = []
        for where, x in numbers_in(value):
            problem = check_number(x, lo, hi, unit, gt=gt)
            if problem:
                at = f"at {where!r}: " if where else ""
                problems.append(f"{at}{problem} (got {x!r})" if where else problem)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    return check


def Bounded(lo: float, hi: float, unit: str = "", *, gt: bool = False) -> Any:
    """A free-form value (a number, a table by level, a dated table of either): every number inside
    it must lie within the range. Used for parameters whose shape the policy compiler parses."""
    return Annotated[Any, AfterValidator(_nested_in_range(lo, hi, unit, gt))]


def non_finite(data: Any, where: str = "") -> Iterator[tuple[str, float]]:
    """Key paths of every NaN or infinite number in parsed file data."""
    for key, x in numbers_in(data, where):
        if isinstance(x, float) and not math.isfinite(x):
            yield key, x


# --------------------------------------------------------------------------- the ranges

#: The largest head count of any input (people 60+, people in a margin cell): above China's total.
MAX_PEOPLE = 1e9
#: People turning 60 in a year (China: about 20–30 million).
MAX_ENTRANTS = 1e8
#: CNY per person per month of a person-following benefit.
MAX_MONTHLY_CNY = 1e6
#: CNY of one facility subsidy unit (a bed, a m², a facility-year, a carer-year).
MAX_UNIT_CNY = 1e9
#: CNY per year of any budget line (a province's whole budget is below 10¹³).
MAX_BUDGET_CNY = 1e13
#: Hours in a month.
HOURS_PER_MONTH = 744
#: Transition intensities per person-year (a monthly probability of 1 − e^(−r/12)).
MAX_INTENSITY = 50.0
#: Hazard and rate ratios.
MAX_RATIO = 1000.0
#: Utility coefficients of the care choice (a logit coefficient of 100 already decides every choice).
MAX_COEFFICIENT = 1000.0
#: Facilities, beds, carers, m² of one plan.
MAX_FACILITIES = 1e6
MAX_BEDS = 1e7
MAX_FLOOR_M2 = 1e9
MAX_SERVINGS = 1e8
#: Simulated people a run may hold in all (at the start plus every entrant): the largest
#: ``run.simulated_people``. Above it a run would exhaust memory long before it finished.
MAX_SIMULATED = 50_000_000


def simulated_total(
    simulated_people: int,
    pop_60plus: float,
    entrants_per_year: float,
    annual_growth: float,
    base_year: int,
    start_year: int,
    years: int,
) -> float:
    """Simulated people a run creates: the start population plus every year's entrants (as
    :class:`agingsim.model.EntryPlan` counts them)."""
    scale = simulated_people / pop_60plus
    entrants = sum(
        entrants_per_year * (1.0 + annual_growth) ** (start_year + y - base_year) for y in range(years)
    )
    return simulated_people + entrants * scale
