"""Cohort-component projection of a region's population base: who is 60+ at the start, and who
turns 60 in each year of the run.

Why: the people turning 60 in 2022–2035 are China's 1962–75 birth boom, and those of 2020–21 the
1959–61 famine trough. A flat entry rate cannot show either; the region's own cohorts aged 40–59 at
the census can, if survived forward with the mortality the model itself uses.

Method (single years of age, by sex, ages ``age_min``..``age_max``, ``age_max`` open):

* At the reference date (e.g. the census, 1 November 2020) people of completed age ``a`` are taken
  to be spread evenly over exact ages [a, a + 1). The open top group of the table is spread over
  the ages above it by life-table survivorship l(x) of the reference year.
* A step of length h ≤ 1 year in calendar year y: a cohort of completed age a survives by
  exp(−[(1 − h/2)·m(a, y) + (h/2)·m(a + 1, y)]·h), with m the model's all-cause rate of completed age
  for that year (``Scenario.life_table_for``; a fixed table every year without calendar-time
  mortality): spread evenly over [a, a + 1), the cohort spends h²/2 of the step past its next
  birthday, at a + 1 (with m(a) alone, a one-year step put every cohort half a year too young and
  under-counted its deaths by ~5% at 60-90); then a share h of each age moves up one year (the
  even-spread assumption).
  Net migration adds ``net_migration_rate``·h of each cohort aged 40–59 before deaths.
* The first step runs from the reference date to 1 January of the first year of the run (two months
  for a 2020 census base and a 2021 start), then whole years. The movers out of age 59 in a step are
  the entrants at 60 of that year; their deaths are counted for half the step only (on average they
  turn 60 mid-step and die at the model's 60+ rates from then on).
* A year is "fed by the base" while the table's youngest cohort has not yet all turned 60: calendar
  year Y needs people born in Y − 60, i.e. aged at least ``age_min`` at the reference date only
  while Y + 1 ≤ reference + 60 − ``age_min`` (2039 for a table from age 40 at 1 November 2020).
  Later years come from a published projection (``[population_base] projection``: UN WPP 2024
  medium variant, 5-year groups at 1 July) — its people aged 59 on 1 January of the year, split to
  single years as the base is, times the region's ratio of its own 40–59 count to the projection's
  at the reference date, by sex — and are labelled ``"projection"`` in :attr:`CohortPlan.fed_by`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from agingsim.errors import ScenarioError
from agingsim.population.base import SEX_CODES, PopulationTable, single_years

ENTRY_AGE = 60
MIGRATION_AGES = (40, 59)


@dataclass(frozen=True)
class CohortPlan:
    """What the population base implies for a run."""

    start_year: int
    #: (age_max − 59, 2) people aged 60..age_max (the last open) on 1 January of the start year
    start_counts: np.ndarray
    #: (n_years, 2) people turning 60 in each run year, by sex (M, F)
    entrants: np.ndarray
    #: per run year: "base" (the table's own cohorts) or "projection" (scaled published projection)
    fed_by: tuple[str, ...]


def _spread_open_top(table: PopulationTable, age_max: int, mx: np.ndarray) -> np.ndarray:
    """Counts over ages age_min..age_max; an open top group spread by l(x), older ages folded in."""
    n = age_max - table.age_min + 1
    out = np.zeros((n, 2))
    k = min(table.counts.shape[0], n)
    out[:k] = table.counts[:k]
    if table.counts.shape[0] > n:  # ages beyond age_max join the open top age
        out[-1] += table.counts[n:].sum(axis=0)
    elif table.open_top and table.age_top < age_max:
        i = table.age_top - table.age_min
        m = mx[i:]
        lx = np.exp(-np.vstack([np.zeros((1, 2)), np.cumsum(m, axis=0)[:-1]]))
        out[i:] = table.counts[-1] * lx / lx.sum(axis=0)
    return out


def _step(
    state: np.ndarray, mx: np.ndarray, h: float, age_min: int, migration: float
) -> tuple[np.ndarray, np.ndarray]:
    """One step of length h: (new state, people turning 60 during it by sex)."""
    ages = np.arange(age_min, age_min + state.shape[0])
    mig = (ages >= MIGRATION_AGES[0]) & (ages <= MIGRATION_AGES[1])
    s = state.copy()
    s[mig] *= 1.0 + migration * h
    i59 = ENTRY_AGE - 1 - age_min
    crossing = s[i59] * h * np.exp(-mx[i59] * h / 2)
    # a cohort of completed age a, spread over [a, a + 1), spends h − h²/2 of the step at a and h²/2
    # at a + 1 (those past their birthday): the rate is that mix, as the model's monthly steps apply it
    older = np.vstack([mx[1:], mx[-1:]])
    s *= np.exp(-((1.0 - h / 2) * mx + (h / 2) * older) * h)
    movers = s[:-1] * h
    s[:-1] -= movers
    s[1:] += movers
    return s, crossing


def project_cohorts(
    table: PopulationTable,
    start_year: int,
    n_years: int,
    age_max: int,
    mx_for_year: Callable[[int, np.ndarray], np.ndarray],
    migration: float = 0.0,
    projection: pd.DataFrame | None = None,
    referrer: Path | None = None,
) -> CohortPlan:
    """Project ``table`` to 1 January ``start_year`` and through ``n_years`` (see module docstring).

    ``mx_for_year(year, ages)`` gives single-year death rates (len(ages), 2) in force in ``year``."""
    ref = table.reference_year
    if start_year < ref - 1e-9:
        raise ScenarioError(
            referrer or table.path,
            "run.start_year",
            f"the run starts on 1 January {start_year}, before the population base's reference date "
            f"{table.reference_date}; start in {int(np.ceil(ref))} or later",
        )
    ages = np.arange(table.age_min, age_max + 1)
    state = _spread_open_top(table, age_max, mx_for_year(int(ref), ages))
    t = ref
    while t < start_year - 1e-9:
        year = int(np.floor(t + 1e-9))
        h = min(1.0, year + 1 - t, start_year - t)
        state, _ = _step(state, mx_for_year(year, ages), h, table.age_min, migration)
        t += h
    start_counts = state[ENTRY_AGE - table.age_min :].copy()
    entrants = np.zeros((n_years, 2))
    fed_by = []
    last_fed = ref + ENTRY_AGE - table.age_min  # the youngest cohort has all turned 60 by then
    # the projection is split to single years only for a run that reaches past the base's cohorts
    # (scipy.interpolate and the split cost ~1 s of a city run's start)
    reaches_past = start_year + n_years > last_fed + 1e-9
    proj = None
    if reaches_past:
        proj = _projection_entrants(projection, table, start_year, n_years, mx_for_year, ages)
    for k in range(n_years):
        year = start_year + k
        state, crossing = _step(state, mx_for_year(year, ages), 1.0, table.age_min, migration)
        if year + 1 <= last_fed + 1e-9:
            entrants[k] = crossing
            fed_by.append("base")
        elif proj is None:
            raise ScenarioError(
                referrer or table.path,
                "population_base.projection",
                f"the run reaches {year}, when people turning 60 were younger than {table.age_min} at "
                f"{table.reference_date} (not in the table): name a projection for those years",
            )
        else:
            entrants[k] = proj[k]
            fed_by.append("projection")
    return CohortPlan(start_year, start_counts, entrants, tuple(fed_by))


def _projection_entrants(
    projection: pd.DataFrame | None,
    table: PopulationTable,
    start_year: int,
    n_years: int,
    mx_for_year: Callable[[int, np.ndarray], np.ndarray],
    ages: np.ndarray,
) -> np.ndarray | None:
    """People turning 60 in each run year from the projection, scaled to the region (n_years, 2)."""
    if projection is None:
        return None
    years = sorted(int(y) for y in projection["year"].unique())
    single = _projection_single_years(projection, years)
    mid = np.asarray(years, float) + 0.5  # 1 July

    def at(t: float, lo: int, hi: int) -> np.ndarray:
        vals = np.stack([single[y][lo : hi + 1].sum(axis=0) for y in years])
        return np.array([np.interp(t, mid, vals[:, s]) for s in range(2)])

    in_band = (table.ages >= MIGRATION_AGES[0]) & (table.ages <= MIGRATION_AGES[1])
    own = table.counts[in_band].sum(axis=0)
    scale = own / at(table.reference_year, *MIGRATION_AGES)
    out = np.zeros((n_years, 2))
    for k in range(n_years):
        year = start_year + k
        m59 = mx_for_year(year, ages)[ENTRY_AGE - 1 - table.age_min]
        out[k] = at(float(year), ENTRY_AGE - 1, ENTRY_AGE - 1) * scale * np.exp(-m59 / 2)
    return out


def _projection_single_years(projection: pd.DataFrame, years: list[int]) -> dict[int, np.ndarray]:
    """Single-year people (ages 0..open top, by sex M, F) at 1 July of each projection year: one
    :func:`~agingsim.population.base.single_years` split for all years and sexes that share the same
    age groups (the same numbers as one split per year and sex, in one interpolant)."""
    groups: dict[tuple[int, ...], list[tuple[int, int, np.ndarray]]] = {}
    for y in years:
        for s, sex in enumerate(SEX_CODES):
            g = projection[(projection["year"] == y) & (projection["sex"] == sex)].sort_values("age")
            lows = tuple(int(a) for a in g["age"])
            groups.setdefault(lows, []).append((y, s, g["people"].to_numpy(float)))
    by_column: dict[tuple[int, int], np.ndarray] = {}
    for lows, cols in groups.items():
        people = np.column_stack([c[2] for c in cols])  # (n_groups, n_columns)
        rows: list[tuple[int, int | None, float | np.ndarray, int]]
        rows = [(lo, hi - 1, people[i], 0) for i, (lo, hi) in enumerate(itertools.pairwise(lows))]
        rows.append((lows[-1], None, people[-1], 0))
        split = single_years(rows, 0, lows[-1], open_top=True)
        by_column.update(((y, s), split[:, j]) for j, (y, s, _) in enumerate(cols))
    return {y: np.column_stack([by_column[y, s] for s in range(len(SEX_CODES))]) for y in years}


def read_projection(path: Path) -> pd.DataFrame:
    """A projection CSV (``year, sex, age, people``; 5-year groups, last open), rows of sex M/F."""
    frame = pd.read_csv(path)
    missing = [c for c in ("year", "sex", "age", "people", "source") if c not in frame.columns]
    if missing:
        raise ScenarioError(path, "row 1", f"missing column(s) {', '.join(missing)}")
    people = pd.to_numeric(frame["people"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(people) | (people < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        raise ScenarioError(path, f"row {row}, column people", "must be a finite number ≥ 0")
    frame = frame[frame["sex"].isin(SEX_CODES)]
    return frame[["year", "sex", "age", "people"]].reset_index(drop=True)
