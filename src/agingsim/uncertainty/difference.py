"""The difference between two arms with its interval: ``agingsim compare A B --replications N``.

Replication ``r`` of both arms runs with the same spawned random streams and the same drawn figures
(:func:`agingsim.uncertainty.draws.draw` is keyed by seed, replication and figure name, and both arms
read the same calibration files), so the difference of replication ``r`` is the effect of the reform
under one draw of the uncertain figures; its spread over replications is the uncertainty of the effect
(Monte Carlo and parameters together). A reform that changes nothing shows exactly zero in every
replication.

Each replication's difference is reckoned as ``agingsim compare`` reckons one (:func:`.compare.overall`
over the years both arms cover: money summed, other measures the mean of the years; a measure an arm
does not model is empty, never zero). Scenarios are drawn in this process; the workers only run them
(the sweep runner's pool), so the figures are the same whatever the number of workers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agingsim.compare import (
    SHARES,
    common_years,
    compare_frames,
    comparison_record,
    ordered_measures,
    overall,
    spell_years,
    yearly_figures,
)
from agingsim.errors import AgingsimError
from agingsim.report.data import REQUIRED_COLUMNS
from agingsim.results.output import Writer, csv_writer, json_writer, write_outputs
from agingsim.scenario import Scenario
from agingsim.simulate import RunResult, run_scenario
from agingsim.uncertainty.draws import Distributions
from agingsim.uncertainty.run import replication_scenarios, run_jobs

#: Columns of difference.csv: the report's reading of it is the one schema (report.data).
DIFFERENCE_COLUMNS = REQUIRED_COLUMNS["difference.csv"]


#: Fewer replications than this give a 90% interval whose ends are little more than the extremes:
#: the terminal says so (assumption: with 20 about one replication lies beyond each end; with fewer,
#: p05 and p95 are interpolated between the smallest two and largest two).
FEW = 20


def _quantiles(x: np.ndarray) -> tuple[float, float, float]:
    """p05, p50, p95; empty (NaN) if any replication's figure is empty (an arm that does not model
    the measure, or a relative difference against zero): an interval over some replications only
    would be read as one over all."""
    if x.size == 0 or not np.isfinite(x).all():
        return (math.nan, math.nan, math.nan)
    lo, mid, hi = np.quantile(x, [0.05, 0.5, 0.95])
    return (float(lo), float(mid), float(hi))


@dataclass
class PairedReplications:
    """What ``n`` paired replications of two arms produced."""

    a: Scenario  # replication 0's scenarios (the figures as written, or their first draw)
    b: Scenario
    n: int
    parameter_uncertainty: bool
    distributions: tuple[Distributions, Distributions]
    #: arm, replication, figure, file, key, value, distribution, scale, central, label
    draws: pd.DataFrame
    #: per replication: each arm's :func:`.compare.yearly_figures`
    figures_a: list[pd.DataFrame]
    figures_b: list[pd.DataFrame]
    #: replication 0 of each arm, whose comparison is written in full
    first_a: RunResult
    first_b: RunResult
    workers: int
    run_time_s: float

    def comparison(self, replication: int = 0) -> pd.DataFrame:
        """comparison.csv of one replication (year, measure, a, b, b_minus_a)."""
        return compare_frames(self.figures_a[replication], self.figures_b[replication])

    def differences(self) -> pd.DataFrame:
        """Per replication and measure: A, B and B − A over the years both arms cover."""
        rows = [
            {"replication": r, "measure": m, "a": a, "b": b, "b_minus_a": d}
            for r in range(self.n)
            for m, (a, b, d) in overall(self.comparison(r)).items()
        ]
        return pd.DataFrame(rows, columns=["replication", "measure", "a", "b", "b_minus_a"])

    def difference(self) -> pd.DataFrame:
        """difference.csv: per measure (in the terminal's order), the arms' means and the 90% interval
        of B − A and of the relative difference; distinguishable from zero when the interval
        excludes it (empty when the interval is)."""
        per = self.differences()
        figures = overall(self.comparison(0))
        printed = ordered_measures(figures)
        order = printed + sorted(m for m in figures if m not in printed)
        rows = []
        for measure in order:
            d = per[per["measure"] == measure]
            a, diff = d["a"].to_numpy(float), d["b_minus_a"].to_numpy(float)
            iv = _quantiles(diff)
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = _quantiles(np.where(a != 0, diff / a, np.nan))
            rows.append(
                {
                    "measure": measure,
                    "a_mean": float(d["a"].mean()) if d["a"].notna().all() else math.nan,
                    "b_mean": float(d["b"].mean()) if d["b"].notna().all() else math.nan,
                    "difference_p05": iv[0],
                    "difference_p50": iv[1],
                    "difference_p95": iv[2],
                    "relative_p05": rel[0],
                    "relative_p50": rel[1],
                    "relative_p95": rel[2],
                    "distinguishable_from_zero": (
                        None if math.isnan(iv[0]) else bool(iv[0] > 0 or iv[2] < 0)
                    ),
                }
            )
        return pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))

    def summary(self) -> dict[str, Any]:
        """summary.json: replication 0's comparison record with what the replications were and the
        interval of each difference."""
        record = comparison_record(self.first_a, self.first_b)
        drawn = [d if self.parameter_uncertainty else Distributions((), ()) for d in self.distributions]
        table = self.difference()
        record["uncertainty"] = {
            "replications": self.n,
            "replication_indices": f"0..{self.n - 1}",
            "full_tables": "comparison.csv is replication 0; difference.csv is over all replications",
            "parameter_uncertainty": self.parameter_uncertainty,
            "figures_drawn_a": [s.name for s in drawn[0].figures],
            "figures_drawn_b": [s.name for s in drawn[1].figures],
            "reckoning": "per replication over the years both arms cover: money summed, other measures "
            "the mean of the years; intervals p05-p95 across replications",
            "difference": {
                row["measure"]: {k: _json_number(v) for k, v in row.items() if k != "measure"}
                for row in table.to_dict("records")
            },
            "workers": self.workers,
        }
        record["run_time_s"] = round(self.run_time_s, 3)
        return record

    def files(self) -> dict[str, Writer]:
        files: dict[str, Writer] = {
            "comparison.csv": csv_writer(self.comparison(0), "%.4f"),
            "difference.csv": csv_writer(self.difference(), "%.6g"),
            "differences.csv": csv_writer(self.differences(), "%.6g"),
        }
        if self.parameter_uncertainty and not self.draws.empty:
            files["draws.csv"] = csv_writer(self.draws, "%.8g")
        files["summary.json"] = json_writer(self.summary())
        return files

    def write(self, out_dir: Path) -> Path:
        return write_outputs(out_dir, self.files())


def _json_number(v: Any) -> Any:
    """NaN as null in summary.json (JSON has no NaN)."""
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _arm(scenario: Scenario, replication: int, keep: bool) -> tuple[pd.DataFrame, RunResult | None]:
    """Worker entry point: one replication of one arm's yearly figures, and its full result if ``keep``."""
    result = run_scenario(scenario, replication=replication)
    return yearly_figures(result), (result if keep else None)


def paired_replications(
    a: Scenario,
    b: Scenario,
    n: int,
    parameter_uncertainty: bool = True,
    workers: int = 1,
    on_done: Callable[[], None] | None = None,
) -> PairedReplications:
    """Run replications 0..n-1 of both arms (B on A's seed; the same draws per replication).

    ``workers`` > 1 runs them on local processes; the figures are identical either way.
    ``on_done()`` is called as each of the 2n runs finishes (progress bars)."""
    if n < 2:
        raise AgingsimError(f"--replications must be at least 2 for an interval (got {n})")
    if workers < 1:
        raise AgingsimError(f"--workers must be at least 1 (got {workers})")
    t0 = time.perf_counter()
    b = b.with_run(seed=a.run.seed) if a.run.seed != b.run.seed else b
    arms = {
        "a": replication_scenarios(a, n, parameter_uncertainty),
        "b": replication_scenarios(b, n, parameter_uncertainty),
    }
    jobs = {(arm, r): (sc, r, r == 0) for arm, (scs, _, _) in arms.items() for r, sc in enumerate(scs)}
    outcomes = run_jobs(
        _arm,
        jobs,
        workers,
        None if on_done is None else lambda _key: on_done(),
        what="replication {0[1]} of arm {0[0]}",
    )
    local = min(workers, len(jobs))
    draws = pd.concat(
        [d.assign(arm=arm.upper())[["arm", *d.columns]] for arm, (_, _, d) in arms.items()], ignore_index=True
    )
    first_a, first_b = outcomes["a", 0][1], outcomes["b", 0][1]
    assert first_a is not None and first_b is not None  # kept by the worker for replication 0
    return PairedReplications(
        a=arms["a"][0][0],
        b=arms["b"][0][0],
        n=n,
        parameter_uncertainty=parameter_uncertainty,
        distributions=(arms["a"][1], arms["b"][1]),
        draws=draws,
        figures_a=[outcomes["a", r][0] for r in range(n)],
        figures_b=[outcomes["b", r][0] for r in range(n)],
        first_a=first_a,
        first_b=first_b,
        workers=local,
        run_time_s=time.perf_counter() - t0,
    )


def describe(paired: PairedReplications) -> list[str]:
    """Lines for the terminal: each difference's median and 90% interval, absolute and relative, and
    whether the interval excludes zero (Chinese first)."""
    from agingsim.report.labels import measure_label

    table = paired.difference()
    first = paired.comparison(0)
    years = sorted(int(y) for y in common_years(first)["year"].unique())
    what = "Monte Carlo + parameter draws" if paired.parameter_uncertainty else "Monte Carlo only"
    n_drawn = len({*paired.draws["figure"]}) if paired.parameter_uncertainty and not paired.draws.empty else 0
    lines = [f"重复 Replications: {paired.n} ({what}; {n_drawn} figures drawn) · {paired.workers} worker(s)"]
    if not years:  # nothing to subtract: said once, not as a missing model per measure
        own = [spell_years(first.loc[first[arm].notna(), "year"]) for arm in "ab"]
        return [
            *lines,
            f"无共同年份 no year both arms cover (A {own[0]}, B {own[1]}): no difference to give; "
            "each arm's figures are in comparison.csv",
        ]
    lines.append(
        f"B−A 差值中位数 [90%区间] median difference [90% interval p05 – p95] over {spell_years(years)} "
        "(money summed over the years, other measures the mean of the years):"
    )

    def fmt(x: float, share: bool) -> str:
        return f"{100 * x:+,.1f} pt" if share else f"{x:+,.1f}" if abs(x) < 100 else f"{x:+,.0f}"

    if paired.n < FEW:
        lines.append(
            f"  注意 note: {paired.n} replications give a rough 90% interval (its ends are near the "
            f"smallest and largest of {paired.n}); use {FEW} or more for a figure to quote"
        )
    printed = set(ordered_measures(overall(first)))
    for row in table.to_dict("records"):
        m = row["measure"]
        if m not in printed:  # in difference.csv
            continue
        words = f"{measure_label(m, 'zh')} {measure_label(m, 'en')}"
        if row["distinguishable_from_zero"] is None:
            lines.append(f"  {words}: — (an arm does not model it)")
            continue
        if row["difference_p05"] == 0.0 and row["difference_p95"] == 0.0:
            lines.append(f"  {words}: 0 (相同 identical in every replication)")
            continue
        share = m in SHARES
        p05, p50, p95 = (fmt(row[f"difference_{p}"], share) for p in ("p05", "p50", "p95"))
        text = f"  {words}: {p50} [{p05} – {p95}]"
        if not math.isnan(row["relative_p50"]):
            r05, r50, r95 = (f"{100 * row[f'relative_{p}']:+.1f}%" for p in ("p05", "p50", "p95"))
            text += f" · {r50} [{r05} – {r95}]"
        text += " · 区间不含零 excludes 0" if row["distinguishable_from_zero"] else " · 区间含零 includes 0"
        lines.append(text)
    return lines
