"""All-cause death rates in calendar time: the life table in force in each year of a run.

Why: a fixed period's rates (the ability model's ``[mortality] period``) give no improvement over
time, so life expectancy at 60 stays flat and deaths run high by the 2030s. A scenario's
``[mortality]`` section (:class:`~agingsim.scenario.schema.CalendarMortality`) picks a path; this
module turns it into one :class:`~agingsim.scenario.loader.LifeTable` per calendar year, which
:mod:`agingsim.ability.intensities` splits by ability level exactly as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.scenario.files import confine
from agingsim.scenario.schema import CalendarMortality

SEX_CODES = ("M", "F")
COLUMNS = ("period", "mid_year", "sex", "age", "mx", "source")


@dataclass(frozen=True)
class MortalityPath:
    """m(x) by 5-year group, sex and calendar year from a table of published periods."""

    path: Path
    setting: CalendarMortality
    #: rows of sex M/F: period, mid_year, sex, age_lower, mx
    periods: pd.DataFrame
    _cache: dict[int, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    def rates(self, year: int) -> pd.DataFrame:
        """Rates (``sex, age_lower, mx``) in force during calendar ``year`` (evaluated at mid-year)."""
        if year not in self._cache:
            self._cache[year] = self._rates(year)
        return self._cache[year]

    def _rates(self, year: int) -> pd.DataFrame:
        t = year + 0.5
        s = self.setting
        if s.path == "wpp":
            table = self.periods.sort_values(["sex", "age_lower", "mid_year"])
            keys = table[["sex", "age_lower"]].drop_duplicates()
            n = len(table) // len(keys)  # periods per (sex, age), as the loader checks
            mid = table["mid_year"].to_numpy(float).reshape(len(keys), n)
            logm = np.log(table["mx"].to_numpy(float)).reshape(len(keys), n)
            mx = [float(np.exp(np.interp(t, m, v))) for m, v in zip(mid, logm, strict=True)]
            frame = keys.assign(mx=mx)
        else:
            base = self.periods[self.periods["period"] == s.period]
            frame = base[["sex", "age_lower", "mx"]].copy()
            if s.path == "improvement":
                mid = float(base["mid_year"].iloc[0])
                frame["mx"] = frame["mx"] * (1.0 - s.annual_improvement) ** (t - mid)
        return frame.reset_index(drop=True)

    def label(self) -> str:
        s = self.setting
        if s.path == "wpp":
            return f"WPP path ({self.path.name}, log-linear between period mid-years)"
        if s.path == "fixed":
            return f"fixed period {s.period} ({self.path.name})"
        return f"period {s.period} improving {s.annual_improvement:.2%} a year ({self.path.name})"


def load_mortality_path(setting: CalendarMortality, scenario_path: Path) -> MortalityPath:
    """Read and check the table a scenario's ``[mortality]`` names (errors name file, row, column)."""
    path = confine(scenario_path.parent / setting.table, scenario_path, "mortality.table")
    if not path.is_file():
        raise ScenarioError(scenario_path, "mortality.table", f"file not found: {path}")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ScenarioError(path, "", f"not a readable UTF-8 CSV table: {exc}") from None
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ScenarioError(path, "row 1", f"missing column(s) {', '.join(missing)}")
    errors: list[ScenarioError] = []
    rows = []
    for i, rec in enumerate(raw.to_dict("records")):
        row = i + 2
        sex = rec["sex"].strip()
        if sex not in (*SEX_CODES, "B"):
            errors.append(ScenarioError(path, f"row {row}, column sex", f"must be M, F or B (got {sex!r})"))
            continue
        vals = {}
        for col in ("mid_year", "mx"):
            try:
                vals[col] = float(rec[col])
            except ValueError:
                vals[col] = math.nan
            if not math.isfinite(vals[col]) or (col == "mx" and vals[col] <= 0):
                errors.append(
                    ScenarioError(
                        path,
                        f"row {row}, column {col}",
                        f"must be a finite positive number (got {rec[col]!r})",
                    )
                )
        try:
            age = int(rec["age"].rstrip("+"))
        except ValueError:
            errors.append(
                ScenarioError(path, f"row {row}, column age", f"must be a whole age (got {rec['age']!r})")
            )
            continue
        if not rec["source"].strip():
            errors.append(ScenarioError(path, f"row {row}, column source", "every row needs a source"))
        if sex in SEX_CODES:
            rows.append((rec["period"].strip(), vals["mid_year"], sex, age, vals["mx"]))
    if errors:
        raise ScenarioErrors(errors)
    periods = pd.DataFrame(rows, columns=["period", "mid_year", "sex", "age_lower", "mx"])
    counts = periods.groupby(["sex", "age_lower"]).size()
    if counts.nunique() != 1:
        raise ScenarioError(path, "period", "every sex and age group needs the same periods")
    if setting.period is not None and setting.period not in set(periods["period"]):
        known = ", ".join(sorted(set(periods["period"])))
        raise ScenarioError(
            scenario_path, "mortality.period", f"'{setting.period}' not in {path.name}: {known}"
        )
    return MortalityPath(path=path, setting=setting, periods=periods)
