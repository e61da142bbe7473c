"""Interval tables: every table a run writes, summarised across replications in one long form.

A run's tables are taken as it writes them (:meth:`RunResult.files`), so a table added later (e.g.
coverage.csv) gets intervals with no change here. In each table, text columns and ``year``/``month``
identify a row; every other numeric column is a measure (true/false counts as 1/0, so its mean is the
share of replications where it holds). A row missing from some replications counts as 0 there: rows
are people, yuan or events, and a replication without the row had none.

Two intervals per row, both 90%:

* ``p05``–``p95`` (with median ``p50``): where one replication's outcome falls. It converges to the
  spread of outcomes (Monte Carlo noise plus parameter uncertainty) and does not shrink with more
  replications;
* ``mean_p05``–``mean_p95``: Student-t interval of the mean over replications. It shrinks as
  1/√n, and says how precisely ``n`` replications pin down the expected value.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from agingsim.simulate import RunResult

#: Numeric columns that identify a row rather than measure it.
KEY_COLUMNS = ("year", "month")
#: Files not summarised: per-figure provenance (text), and the monthly ledger whose yearly summaries
#: (ledger_by_payer.csv, ledger_by_line_item.csv) are.
SKIP_FILES = frozenset({"assumptions.csv", "ledger.csv"})
#: The headline table: one row per year (people 60+, needing care, entrants, deaths, cost by payer;
#: with a behaviour model the people in need served by formal care and their share).
BY_YEAR = "by_year"
COLUMNS = ["table", "year", "key", "measure", "n", "p05", "p50", "p95", "mean", "mean_p05", "mean_p95"]


def run_tables(result: RunResult) -> dict[str, pd.DataFrame]:
    """Every CSV table ``result`` writes (read back as written), and the by-year headline rows."""
    from agingsim.sweep.plan import RunSpec
    from agingsim.sweep.runner import Task, result_rows

    tables: dict[str, pd.DataFrame] = {}
    with tempfile.TemporaryDirectory(prefix="agingsim-tables-") as tmp:
        for name, writer in result.files().items():
            if name.endswith(".csv") and name not in SKIP_FILES:
                path = Path(tmp) / name
                writer(path)
                tables[name.removesuffix(".csv")] = pd.read_csv(path)
    sc = result.scenario
    task = Task(RunSpec("", 0, result.replication, sc.run.seed, {}), "", "", sc)
    rows = result_rows(task, result)
    keep = ["year", "people_60plus", "needing_care", "entrants", "deaths"]
    keep += [c for c in rows.columns if c.startswith("cost_") and c.endswith("_wan")]
    keep += [c for c in ("needing_care_served", "needing_care_served_share") if c in rows]
    tables[BY_YEAR] = rows[keep]
    return tables


def long_form(table: str, frame: pd.DataFrame, ids: tuple[str, ...] = ()) -> pd.DataFrame:
    """``table, year, key, measure, value`` rows of one table (NaN values dropped, duplicates summed);
    columns named in ``ids`` (e.g. ``replication``) are carried through as they are."""
    keys = [c for c in frame.columns if c in KEY_COLUMNS or c in ids or not _is_measure(frame[c])]
    measures = [c for c in frame.columns if c not in keys]
    if not measures or frame.empty:
        return pd.DataFrame(columns=["table", "year", "key", "measure", "value"])
    other = [c for c in keys if c != "year" and c not in ids]
    data = frame.copy()
    data[measures] = data[measures].astype(float)
    labels = data[other].astype(object).where(data[other].notna(), "")  # a missing key reads as empty
    key = (
        labels.astype(str).radd([f"{c}=" for c in other]).agg("; ".join, axis=1)
        if other
        else pd.Series("", index=data.index)
    )
    out = pd.DataFrame(
        {
            "table": table,
            "year": data["year"].astype(float) if "year" in data else np.nan,
            "key": key,
            **{c: data[c] for c in ids},
        }
    )
    index = ["table", "year", "key", *ids]
    out = pd.concat([out, data[measures]], axis=1).melt(id_vars=index, var_name="measure", value_name="value")
    out = out.dropna(subset=["value"])
    by = ["table", "year", "key", "measure", *ids]
    return out.groupby(by, dropna=False, sort=False, as_index=False)["value"].sum()


def _is_measure(col: pd.Series) -> bool:
    """Numbers and yes/no columns, also a yes/no column with gaps (targets.csv's ``met`` is empty
    where a target cannot be judged; read back, that is an object column of booleans and NaN)."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return True
    present = col.dropna()
    return col.dtype == object and len(present) > 0 and all(isinstance(v, bool) for v in present)


def intervals(replications: Iterable[dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """The interval table (:data:`COLUMNS`) over replications, each a ``{table: frame}`` of one run."""
    by_name: dict[str, list[pd.DataFrame]] = {}
    n = 0
    for r, tables in enumerate(replications):
        n = r + 1
        for name, frame in tables.items():
            by_name.setdefault(name, []).append(frame.assign(replication=r))
    parts = [
        long_form(name, pd.concat(frames, ignore_index=True), ("replication",))
        for name, frames in by_name.items()
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    rows = pd.concat(parts, ignore_index=True)
    rows["year"] = rows["year"].fillna(-1)  # pivot keys must not be NaN
    wide = rows.pivot_table(
        index=["table", "year", "key", "measure"],
        columns="replication",
        values="value",
        aggfunc="sum",
        sort=False,
    ).reindex(columns=range(n))
    x = wide.fillna(0.0).to_numpy()
    out = wide.index.to_frame(index=False)
    out["year"] = out["year"].astype(int).astype("Int64").where(out["year"] >= 0)
    out["n"] = n
    out["p05"], out["p50"], out["p95"] = np.quantile(x, [0.05, 0.5, 0.95], axis=1)
    mean = x.mean(axis=1)
    half = np.full(len(x), np.nan)
    if n > 1:
        half = stats.t.ppf(0.95, n - 1) * x.std(axis=1, ddof=1) / np.sqrt(n)
    out["mean"], out["mean_p05"], out["mean_p95"] = mean, mean - half, mean + half
    return out[COLUMNS]


def band(table: pd.DataFrame, name: str, measure: str, key: str = "") -> pd.DataFrame:
    """``year, p05, p50, p95`` of one measure (the frame :func:`agingsim.report.charts.fan_chart` draws)."""
    rows = table[(table["table"] == name) & (table["measure"] == measure) & (table["key"].fillna("") == key)]
    return rows[["year", "p05", "p50", "p95", "n"]].dropna(subset=["year"]).reset_index(drop=True)
