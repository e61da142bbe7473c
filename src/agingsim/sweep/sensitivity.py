"""Morris and Sobol sensitivity indices (SALib) of a sweep's headline outputs, as CSV and a chart.

Computed from the store, not from memory, so a sweep resumed after a crash analyses every run; each
output is averaged over replications first, so indices describe the policy parameters, not the
Monte Carlo noise.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from agingsim.sweep.plan import Plan
from agingsim.sweep.spec import Sweep
from agingsim.sweep.store import Store

#: Output column → what it is (chart titles): costs summed over the horizon, need at its end.
OUTPUTS = {
    "cost_total_wan": "total cost over the horizon (10k CNY)",
    "cost_province_wan": "province's cost (10k CNY)",
    "cost_city_wan": "city's cost (10k CNY)",
    "cost_county_wan": "county's cost (10k CNY)",
    "needing_care_end": "people needing care (moderate+) at the end",
}


def point_outputs(plan: Plan, store: Store) -> pd.DataFrame | None:
    """Headline outputs per design point (mean over replications), or None if a run is missing."""
    keys = [r.key for r in plan.runs]
    rows = store.read(keys)
    if rows.empty or rows["run_key"].nunique() < len(set(keys)):
        return None
    costs = [c for c in OUTPUTS if c.startswith("cost_") and c in rows.columns]
    per_run = rows.groupby("run_key")[costs].sum(min_count=1).fillna(0.0)
    last = rows.loc[rows.groupby("run_key")["year"].idxmax(), ["run_key", "needing_care"]]
    per_run["needing_care_end"] = last.set_index("run_key")["needing_care"]
    point_of = {r.key: r.point for r in plan.runs}
    per_run["point"] = per_run.index.map(point_of)
    return per_run.groupby("point").mean().sort_index()


def analyse(sweep: Sweep, plan: Plan, store: Store) -> tuple[list[Path], list[str]]:
    """Write sensitivity_<method>.csv and .png; return the files written and notes for the summary."""
    outputs = point_outputs(plan, store)
    if outputs is None:
        return [], ["sensitivity not computed: some runs failed; fix them and run the sweep again"]
    problem = sweep.problem()
    x = sweep.design_matrix()
    method = "morris" if sweep.meta.design == "morris" else "sobol"
    tables, notes = [], []
    for column in OUTPUTS:
        if column not in outputs:
            continue
        y = outputs[column].to_numpy(dtype=float)
        if np.ptp(y) == 0:
            notes.append(f"{column} is the same at every design point: no sensitivity to compute")
            continue
        if method == "morris":
            from SALib.analyze import morris

            si = morris.analyze(problem, x, y, num_levels=sweep.meta.morris_levels, seed=sweep.meta.seed)
            keys = ["mu", "mu_star", "sigma", "mu_star_conf"]
        else:
            from SALib.analyze import sobol

            si = sobol.analyze(problem, y, calc_second_order=False, seed=sweep.meta.seed)
            keys = ["S1", "S1_conf", "ST", "ST_conf"]
        table = pd.DataFrame({"output": column, "parameter": problem["names"]})
        for k in keys:
            table[k] = np.asarray(si[k], dtype=float)
        tables.append(table)
    if not tables:
        return [], notes
    result = pd.concat(tables, ignore_index=True)
    csv = store.dir / f"sensitivity_{method}.csv"
    _atomic(csv, lambda p: result.to_csv(p, index=False, float_format="%.6g", lineterminator="\n"))
    png = store.dir / f"sensitivity_{method}.png"
    _atomic(png, lambda p: _chart(result, method, sweep.name).savefig(p, format="png", dpi=120))
    return [csv, png], notes


def _atomic(path: Path, write: object) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)  # type: ignore[operator]
    os.replace(tmp, path)


def _chart(table: pd.DataFrame, method: str, name: str) -> object:
    """One panel per output: Morris μ* (± confidence) or Sobol S1 and ST, per parameter."""
    from matplotlib.figure import Figure

    outputs = list(dict.fromkeys(table["output"]))
    params = list(dict.fromkeys(table["parameter"]))
    fig = Figure(figsize=(8, 1.2 + 0.45 * len(params) * len(outputs) + 0.6 * len(outputs)))
    axes = fig.subplots(len(outputs), 1, squeeze=False)[:, 0]
    ypos = np.arange(len(params))
    for ax, output in zip(axes, outputs, strict=True):
        t = table[table["output"] == output].set_index("parameter").reindex(params)
        if method == "morris":
            ax.barh(ypos, t["mu_star"], xerr=t["mu_star_conf"], color="#4C72B0")
            ax.set_xlabel("Morris μ* (mean absolute elementary effect)")
        else:
            h = 0.38
            ax.barh(ypos - h / 2, t["S1"], h, xerr=t["S1_conf"], label="S1 (first order)", color="#4C72B0")
            ax.barh(ypos + h / 2, t["ST"], h, xerr=t["ST_conf"], label="ST (total)", color="#DD8452")
            ax.set_xlabel("Sobol index")
            ax.legend(loc="lower right", fontsize="small")
        ax.set_yticks(ypos, params)
        ax.invert_yaxis()
        ax.set_title(OUTPUTS.get(output, output), fontsize="medium")
    fig.suptitle(f"Sensitivity of sweep {name} ({'Morris' if method == 'morris' else 'Sobol'})")
    fig.tight_layout()
    return fig
