"""A region's population base: people by age × sex at a stated reference date (usually a census).

Why: the people aged 60+ at the start and everyone turning 60 later come from the region's own
cohorts, so the famine trough (born 1959–61) and the boom (1962–75) reach the model as they did the
region, instead of a stationary shape and a flat entry rate.

File format (``calibration/regions/<id>_population.csv``, UTF-8, one header row)::

    age_lower,age_upper,sex,people,source
    40,44,M,52000000,"7th census ... table ..."
    ...
    100,,F,90000,"..."

* ``age_lower``, ``age_upper``: whole years, both inclusive. A single year has ``age_upper =
  age_lower``; 5-year (or any width) groups are allowed. The last group of each sex may be open
  (``age_upper`` empty: ``100+``); a closed last group states its top, and nobody is older.
* ``sex``: ``M`` or ``F``; both must be present.
* ``people``: persons (not thousands), finite and ≥ 0.
* ``source``: document, table and year of the row (or ``assumption: ...`` with the reasoning).
* For each sex the groups must not overlap and must leave no gap, and must start at 40 or younger:
  people aged 40–59 at the reference date are the entrants at 60 over the next 20 years.

Every problem is a :class:`~agingsim.errors.ScenarioError` ``FILE: row N, column C: PROBLEM``, rows
numbered as in a spreadsheet (the header is row 1).

Interpolation to single years (groups wider than one year): per sex, the cumulative count N(x) of
people younger than x is known exactly at every group edge; a monotone piecewise-cubic Hermite
interpolant of N (scipy ``PchipInterpolator``, Fritsch–Carlson) is evaluated at each whole age and
differenced. Each group's total is therefore preserved exactly, counts are never negative (the
interpolant of a non-decreasing N is non-decreasing), and single-year rows pass through unchanged.
The open top group is kept as one count at its lower age; the model spreads it over the ages above
by life-table survivorship.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from agingsim.errors import ScenarioError, ScenarioErrors

COLUMNS = ("age_lower", "age_upper", "sex", "people", "source")
SEX_CODES = ("M", "F")
#: The base must reach down to this age: the cohorts that turn 60 within 20 years of the base date.
YOUNGEST_REQUIRED = 40


@dataclass(frozen=True)
class PopulationTable:
    """People by single year of age × sex at ``reference_date``.

    ``counts[i, s]`` is the number aged ``age_min + i`` (completed years) of sex ``SEX_CODES[s]``;
    with ``open_top`` the last row holds everyone aged ``age_top`` and over.
    """

    path: Path
    reference_date: date
    age_min: int
    counts: np.ndarray  # (n_ages, 2)
    open_top: bool

    @property
    def age_top(self) -> int:
        return self.age_min + self.counts.shape[0] - 1

    @property
    def ages(self) -> np.ndarray:
        return np.arange(self.age_min, self.age_top + 1)

    def people(self, lo: int, hi: int | None = None) -> float:
        """People aged ``lo``..``hi`` inclusive (``hi=None``: and over), both sexes."""
        ages = self.ages
        mask = (ages >= lo) & (ages <= (hi if hi is not None else ages[-1]))
        return float(self.counts[mask].sum())

    @property
    def reference_year(self) -> float:
        """The reference date as a decimal year (1 Nov 2020 → 2020.833)."""
        return decimal_year(self.reference_date)


def decimal_year(d: date) -> float:
    start = date(d.year, 1, 1)
    length = (date(d.year + 1, 1, 1) - start).days
    return d.year + (d - start).days / length


def _problem(path: Path, row: int, column: str, text: str) -> ScenarioError:
    return ScenarioError(path, f"row {row}, column {column}", text)


def _whole(value: object) -> int | None:
    """An integer from a CSV cell, or None if it is not a whole number."""
    try:
        x = float(str(value).strip())
    except ValueError:
        return None
    if not math.isfinite(x) or x != int(x):
        return None
    return int(x)


def read_population_table(path: Path, reference_date: date, referrer: Path, key: str) -> PopulationTable:
    """Read and validate a population-base CSV (format in the module docstring)."""
    if not path.is_file():
        raise ScenarioError(referrer, key, f"population table not found: {path}")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(path, "", "not UTF-8 text") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ScenarioError(path, "", f"not a readable CSV table: {exc}") from None
    cols = [c.strip() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in cols]
    unknown = [c for c in cols if c not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise ScenarioError(path, "row 1", f"{'; '.join(parts)}; expected {', '.join(COLUMNS)}")
    raw.columns = cols
    if raw.empty:
        raise ScenarioError(path, "", "no data rows")

    errors: list[ScenarioError] = []
    groups: dict[str, list[tuple[int, int | None, float, int]]] = {s: [] for s in SEX_CODES}
    for i, rec in enumerate(raw.to_dict("records")):
        row = i + 2
        lo = _whole(rec["age_lower"])
        if lo is None or lo < 0 or lo > 130:
            errors.append(
                _problem(path, row, "age_lower", f"must be a whole age 0–130 (got {rec['age_lower']!r})")
            )
            continue
        up_text = str(rec["age_upper"]).strip()
        hi: int | None
        if up_text == "":
            hi = None
        else:
            hi = _whole(up_text)
            if hi is None or hi < lo or hi > 130:
                errors.append(
                    _problem(
                        path,
                        row,
                        "age_upper",
                        f"must be empty (open top group) or a whole age ≥ age_lower (got {up_text!r})",
                    )
                )
                continue
        sex = str(rec["sex"]).strip()
        if sex not in SEX_CODES:
            errors.append(_problem(path, row, "sex", f"must be M or F (got {sex!r})"))
            continue
        try:
            people = float(str(rec["people"]).strip())
        except ValueError:
            errors.append(_problem(path, row, "people", f"not a number (got {rec['people']!r})"))
            continue
        if not math.isfinite(people) or people < 0:
            errors.append(
                _problem(path, row, "people", f"must be a finite number ≥ 0 (got {rec['people']!r})")
            )
            continue
        if not str(rec["source"]).strip():
            errors.append(
                _problem(
                    path,
                    row,
                    "source",
                    "every row needs a source (document, table, year) or 'assumption: ...'",
                )
            )
            continue
        groups[sex].append((lo, hi, people, row))
    if errors:
        raise ScenarioErrors(errors)

    for sex in SEX_CODES:
        if not groups[sex]:
            errors.append(
                ScenarioError(path, "column sex", f"no rows for sex {sex}: both M and F are needed")
            )
            continue
        rows = sorted(groups[sex], key=lambda g: g[0])
        if rows[0][0] > YOUNGEST_REQUIRED:
            errors.append(
                _problem(
                    path,
                    rows[0][3],
                    "age_lower",
                    f"sex {sex} starts at {rows[0][0]}: the table must cover ages {YOUNGEST_REQUIRED}+ "
                    "(the cohorts that turn 60 in the next 20 years)",
                )
            )
        for (lo, hi, _, row), (nlo, _, _, nrow) in itertools.pairwise(rows):
            if hi is None:
                errors.append(
                    _problem(
                        path,
                        row,
                        "age_upper",
                        f"only the last group of sex {sex} may be open; row {nrow} starts at {nlo}",
                    )
                )
            elif nlo <= hi:
                errors.append(
                    _problem(
                        path, nrow, "age_lower", f"sex {sex}: {nlo} overlaps the group {lo}–{hi} of row {row}"
                    )
                )
            elif nlo > hi + 1:
                errors.append(
                    _problem(
                        path,
                        nrow,
                        "age_lower",
                        f"sex {sex}: ages {hi + 1}–{nlo - 1} missing (previous group {lo}–{hi}, row {row})",
                    )
                )
        groups[sex] = rows
    if errors:
        raise ScenarioErrors(errors)

    tops = {s: groups[s][-1] for s in SEX_CODES}
    open_flags = {s: tops[s][1] is None for s in SEX_CODES}
    if (
        open_flags["M"] != open_flags["F"]
        or (open_flags["M"] and tops["M"][0] != tops["F"][0])
        or (not open_flags["M"] and tops["M"][1] != tops["F"][1])
    ):
        errors.append(
            _problem(
                path,
                tops["F"][3],
                "age_upper",
                "the top group must be the same for M and F (same open age, or same stated top)",
            )
        )
        raise ScenarioErrors(errors)
    open_top = open_flags["M"]
    age_min = max(groups[s][0][0] for s in SEX_CODES)
    top = tops["M"][0] if open_top else int(tops["M"][1])  # type: ignore[arg-type]
    counts = np.column_stack([single_years(groups[s], age_min, top, open_top) for s in SEX_CODES])
    return PopulationTable(
        path=path, reference_date=reference_date, age_min=age_min, counts=counts, open_top=open_top
    )


def single_years(
    rows: list[tuple[int, int | None, float | np.ndarray, int]], age_min: int, top: int, open_top: bool
) -> np.ndarray:
    """Single-year counts ``age_min..top`` from sorted contiguous groups (PCHIP of the cumulative count).

    With ``open_top`` the last group (``top`` and over) is one count at ``top``. The counts may be
    arrays of one shape (several tables with the same groups, e.g. years × sexes of a projection):
    the result has their shape after the age axis, each column split as on its own."""
    closed = rows[:-1] if open_top else rows
    end = top if open_top else top + 1  # first age not covered by the closed groups
    out = np.zeros((top - age_min + 1, *np.shape(rows[-1][2])))
    if closed and all(g[1] == g[0] for g in closed):  # already single years: nothing to interpolate
        out[: end - age_min] = [g[2] for g in closed if g[0] >= age_min]
    elif closed:
        # imported here, not at module level: scipy.interpolate costs about a second at start-up of
        # every run, and regions without a base (or with a single-year table) never need it
        from scipy.interpolate import PchipInterpolator

        edges = np.asarray([closed[0][0]] + [int(g[1]) + 1 for g in closed], float)  # type: ignore[arg-type]
        people = np.asarray([g[2] for g in closed], float)
        cum = np.concatenate([np.zeros((1, *people.shape[1:])), np.cumsum(people, axis=0)])
        n = PchipInterpolator(edges, cum)(np.arange(age_min, end + 1, dtype=float))
        # clip round-off only: the interpolant of a non-decreasing N is non-decreasing
        out[: end - age_min] = np.maximum(np.diff(n, axis=0), 0.0)
    if open_top:
        out[-1] = rows[-1][2]
    return out
