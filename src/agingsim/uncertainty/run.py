"""Monte Carlo replications of one scenario, with parameter draws, on local worker processes.

Replication ``r`` runs with the spawned random streams of :class:`agingsim.rng.RandomStreams` and,
with parameter uncertainty, with the figures drawn for ``r`` (:mod:`.draws`). Both depend only on
(scenario, seed, r), so the results are identical whatever the worker count; the same ``r`` of two
scenarios shares both the people's random numbers and the parameter draws (common random numbers).
Scenarios are drawn and validated in this process before any run starts; workers only compute
(the sweep runner's process pool, :func:`agingsim.sweep.runner.start_pool`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from agingsim.errors import AgingsimError
from agingsim.report.labels import both, label, stock_when
from agingsim.results.output import Writer, csv_writer, json_writer, write_outputs
from agingsim.scenario import Scenario
from agingsim.simulate import RunResult, run_scenario
from agingsim.uncertainty.draws import Distributions, draw, scenario_with, stated_distributions
from agingsim.uncertainty.intervals import BY_YEAR, intervals, run_tables


@dataclass
class Replications:
    """What ``n`` replications of a scenario produced."""

    scenario: Scenario
    n: int
    parameter_uncertainty: bool
    distributions: Distributions
    #: replication, figure, file, key, value, distribution, scale, central, label
    draws: pd.DataFrame
    #: per replication: ``{table: frame}`` as the run writes it (see :func:`.intervals.run_tables`)
    tables: list[dict[str, pd.DataFrame]]
    #: replication 0, whose full outputs are written beside the intervals
    first: RunResult
    workers: int
    run_time_s: float

    def intervals(self) -> pd.DataFrame:
        return intervals(self.tables)

    def by_year(self) -> pd.DataFrame:
        """The headline rows of every replication (``replication`` column first)."""
        return pd.concat(
            [t[BY_YEAR].assign(replication=r) for r, t in enumerate(self.tables)], ignore_index=True
        )[["replication", *self.tables[0][BY_YEAR].columns]]

    def headline(self) -> dict[str, Any]:
        """p05/p50/p95 of the last year's people 60+ and needing care, of those needing care served by
        formal care in the last simulated year (with a behaviour model), and of total cost over the run."""
        rows = self.by_year()
        last = int(rows["year"].max())
        final = rows[rows["year"] == last]
        out: dict[str, Any] = {"year": last, "replications": self.n}
        for m in ("people_60plus", "needing_care"):
            out[f"{m}_last"] = _quantiles(final[m].to_numpy())
        if "needing_care_served" in rows:  # the last simulated year (monthly means)
            served = rows[rows["year"] == int(rows.dropna(subset=["needing_care_served"])["year"].max())]
            out["served_year"] = int(served["year"].iloc[0])
            out["needing_care_served_last"] = _quantiles(served["needing_care_served"].to_numpy())
            share = served["needing_care_served_share"].to_numpy()
            out["needing_care_served_share_last"] = _quantiles(share, digits=4)
        if "cost_total_wan" in rows and rows["cost_total_wan"].fillna(0).abs().sum() > 0:
            totals = rows.groupby("replication")["cost_total_wan"].sum().to_numpy()
            out["cost_total_wan"] = _quantiles(totals)
        return out

    def summary(self, outputs: list[str]) -> dict[str, Any]:
        """Replication 0's run record, with what the replications were and their headline intervals."""
        record = self.first.summary(outputs=outputs)
        drawn = self.distributions if self.parameter_uncertainty else Distributions((), ())
        record["uncertainty"] = {
            "replications": self.n,
            "replication_indices": f"0..{self.n - 1}",
            "full_tables": f"replication {record['replication']}; intervals over all replications",
            "parameter_uncertainty": self.parameter_uncertainty,
            "figures_drawn": [s.name for s in drawn.figures],
            "correlation_groups": [f"{g.kind}:{g.name}" for g in drawn.groups],
            "intervals": "intervals.csv: p05-p95 across replications; mean_p05-mean_p95 for the mean",
            "headline": self.headline(),
            "workers": self.workers,
        }
        record["run_time_s"] = round(self.run_time_s, 3)
        return record

    def files(self) -> dict[str, Writer]:
        files = self.first.files()
        files["intervals.csv"] = csv_writer(self.intervals(), "%.4f")
        files["replications.csv"] = csv_writer(self.by_year(), "%.4f")
        if self.parameter_uncertainty and not self.draws.empty:
            files["draws.csv"] = csv_writer(self.draws, "%.8g")
        files["summary.json"] = json_writer(self.summary(outputs=list(files)))
        return files

    def write(self, out_dir: Path) -> Path:
        return write_outputs(out_dir, self.files())


def _quantiles(x: np.ndarray, digits: int = 2) -> dict[str, float]:
    p05, p50, p95 = np.quantile(x, [0.05, 0.5, 0.95])
    return {k: round(float(v), digits) for k, v in (("p05", p05), ("p50", p50), ("p95", p95))}


def replication_scenarios(
    scenario: Scenario, n: int, parameter_uncertainty: bool = True
) -> tuple[list[Scenario], Distributions, pd.DataFrame]:
    """The scenario each replication runs (with its drawn figures), the distributions and the draws."""
    dists = stated_distributions(scenario) if parameter_uncertainty else Distributions((), ())
    scenarios, rows = [], []
    for r in range(n):
        values = draw(dists, scenario.run.seed, r)
        scenarios.append(scenario_with(scenario, values, r))
        rows += [
            {
                "replication": r,
                "figure": s.name,
                "file": s.file,
                "key": s.key,
                "value": values[s.name],
                "distribution": s.distribution,
                "scale": s.scale,
                "central": s.value,
                "label": s.label,
            }
            for s in dists.figures
        ]
    columns = ["replication", "figure", "file", "key", "value", "distribution", "scale", "central", "label"]
    return scenarios, dists, pd.DataFrame(rows, columns=columns)


def _replicate(
    scenario: Scenario, replication: int, keep: bool, by_group: bool = False
) -> tuple[dict[str, pd.DataFrame], Any]:
    """Worker entry point: one replication's tables, and its full result if ``keep`` (with the
    spending by group, distribution.csv, if ``by_group``: recording it changes no figure)."""
    result = run_scenario(scenario, replication=replication, record_distribution=keep and by_group)
    return run_tables(result), (result if keep else None)


K = TypeVar("K")


def run_jobs(
    fn: Callable[..., Any],
    jobs: dict[K, tuple[Any, ...]],
    workers: int,
    on_done: Callable[[K], None] | None = None,
    what: str = "run {}",
) -> dict[K, Any]:
    """``fn(*args)`` for each job, in this process or on ``workers`` local processes (the sweep
    runner's pool); results by job key, the same either way. ``on_done(key)`` as each finishes; a
    failure names the job (``what`` formatted with its key)."""
    if min(workers, len(jobs)) <= 1:
        out = {}
        for key, args in jobs.items():
            out[key] = fn(*args)
            if on_done is not None:
                on_done(key)
        return out
    from concurrent.futures import as_completed

    from agingsim.sweep.runner import start_pool

    pool = start_pool(min(workers, len(jobs)))
    results: dict[K, Any] = {}
    try:
        futures = {pool.submit(fn, *args): key for key, args in jobs.items()}
        for future in as_completed(futures):
            key = futures[future]
            try:
                results[key] = future.result()
            except Exception as exc:
                raise AgingsimError(f"{what.format(key)} failed: {exc}") from exc
            if on_done is not None:
                on_done(key)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return {key: results[key] for key in jobs}


def run_replications(
    scenario: Scenario,
    n: int,
    parameter_uncertainty: bool = True,
    workers: int = 1,
    on_done: Callable[[int], None] | None = None,
    by_group: bool = False,
) -> Replications:
    """Run replications 0..n-1 of ``scenario`` (``workers`` > 1: local processes); same results either way.

    With ``parameter_uncertainty`` every figure with a stated distribution is drawn per replication.
    ``on_done(r)`` is called as each replication finishes (progress bars); ``by_group``: replication
    0's outputs include distribution.csv (``agingsim run --by-group``).
    """
    if n < 1:
        raise AgingsimError(f"--replications must be at least 1 (got {n})")
    if workers < 1:
        raise AgingsimError(f"--workers must be at least 1 (got {workers})")
    t0 = time.perf_counter()
    scenarios, dists, draws = replication_scenarios(scenario, n, parameter_uncertainty)
    jobs = {r: (sc, r, r == 0, by_group) for r, sc in enumerate(scenarios)}
    outcomes = run_jobs(_replicate, jobs, workers, on_done, what="replication {}")
    local = min(workers, n)
    first = outcomes[0][1]
    return Replications(
        scenario=scenarios[0],
        n=n,
        parameter_uncertainty=parameter_uncertainty,
        distributions=dists,
        draws=draws,
        tables=[outcomes[r][0] for r in range(n)],
        first=first,
        workers=local,
        run_time_s=time.perf_counter() - t0,
    )


def describe(reps: Replications) -> list[str]:
    """Lines for the terminal: the headline intervals."""
    h = reps.headline()
    what = "Monte Carlo + parameter draws" if reps.parameter_uncertainty else "Monte Carlo only"
    n_drawn = len(reps.distributions.figures) if reps.parameter_uncertainty else 0
    lines = [f"重复 Replications: {reps.n} ({what}; {n_drawn} figures drawn) · 90% interval p05–p95, median"]
    served = h.get("served_year")
    # stocks dated as the app and the report date them (labels.stock_when: 1 January after the last
    # fiscal year is its year-end figure); coverage is a monthly mean
    first = reps.scenario.run.start_year
    end = both(lambda lang: stock_when(h["year"], first, lang))
    mean = both(lambda lang: label("year_mean", lang, year=served))
    rows = [  # (headline key, words, per cent)
        ("people_60plus_last", f"60岁及以上人口 People 60+ ({end})", False),
        ("needing_care_last", f"需要照护 Needing care ({end})", False),
        ("needing_care_served_last", f"获得正式照护 Served by formal care ({mean})", False),
        ("needing_care_served_share_last", f"需要照护者获服务比例 Share served ({mean})", True),
        ("cost_total_wan", "财政支出合计 Total cost (万元)", False),
    ]
    for k, text, share in rows:
        if k in h:
            q = h[k]
            if share:
                p05, p50, p95 = (f"{100 * q[p]:.1f}%" for p in ("p05", "p50", "p95"))
            else:
                p05, p50, p95 = (f"{q[p]:,.0f}" for p in ("p05", "p50", "p95"))
            lines.append(f"  {text}: {p50} [{p05} – {p95}]")
    return lines
