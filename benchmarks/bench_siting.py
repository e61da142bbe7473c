"""Benchmark of facility siting (issue 8): a city of 3,000 communities and 500 candidate sites.

Not a test: timings depend on the machine and its load, so they are printed and written to JSON, never
asserted. Target (issue 8 done-when): the maximal covering problem of a city of 3,000 communities and
500 candidate sites is solved in under a minute on the 2-core machine. Run from anywhere::

    python benchmarks/bench_siting.py [--communities 3000] [--candidates 500]
        [--counts 25:100,60:320] [--budgets-wan 2000,6000] [--minutes 15,30] [--with-villages]
        [--out benchmarks/results/siting.json]

The city is the synthetic Guiyang recipe (calibration/geo/guiyang_synthetic.toml) with more living
circles, urban communities only (a dense city; ``--with-villages`` keeps the rural villages, which
spreads the city out and makes the problem easier), subsampled to exactly ``--communities``
communities; ``--candidates`` sites are drawn from the centre and station candidates of those
communities. A 30-minute walk quadruples the coverage pairs: a stress test well beyond the
15-minute circle the seeds ask for. For each walk (minutes) and each problem
(``C:S`` = at most C centres and S stations; or a construction budget in 万元) it times building the
coverage matrix, the exact MILP (scipy.optimize.milp / HiGHS, gap 0) and the greedy heuristic, and
records the people each covers. Every timing includes scipy's model set-up; none include start-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy

import agingsim
from agingsim.geo.geography import Geography, WalkParams, load_geography, read_geography_file
from agingsim.geo.siting import build_problem, solve_greedy, solve_milp
from agingsim.geo.synthetic import CountyTotals, SynthSpec, synthesize
from agingsim.scenario.files import load_labelled
from agingsim.scenario.loader import _resolve
from agingsim.scenario.schema import RegionFile

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "calibration" / "geo" / "guiyang_synthetic.toml"


def bench_city(n_communities: int, n_candidates: int, urban_only: bool = False, seed: int = 8) -> Geography:
    """The synthetic Guiyang recipe scaled up, subsampled to exactly the sizes asked for; ``urban_only``
    keeps only the urban living circles: a dense city whose catchments overlap much more."""
    spec_file, _, _ = read_geography_file(RECIPE)
    assert spec_file.synth is not None and spec_file.region is not None
    spec = SynthSpec.model_validate(spec_file.synth)
    scale = n_communities / 1467  # communities of the bundled synthetic city
    spec = spec.model_copy(
        update={
            "living_circles": int(140 * scale * 1.2),
            "elders_per_village": spec.elders_per_village / (scale * 1.2),
            "seed": seed,
        }
    )
    region, _ = load_labelled(_resolve(spec_file.region, "regions", RECIPE, "region"), RegionFile)
    counties = [
        CountyTotals(c.id, region.pop_60plus * c.share_60plus, c.urban_share) for c in region.counties
    ]
    if urban_only:
        spec = spec.model_copy(update={"living_circles": int(n_communities / 5.5 * 1.15)})
    comm, _, cand = synthesize(spec, counties, "benchmark")
    if urban_only:
        comm = comm[comm["type"] == "urban"]
    rng = np.random.default_rng(seed)
    comm = comm.iloc[np.sort(rng.choice(len(comm), n_communities, replace=False))].reset_index(drop=True)
    cand = cand[cand["id"].str[2:].isin(comm["id"])]
    cand = cand.iloc[np.sort(rng.choice(len(cand), n_candidates, replace=False))].reset_index(drop=True)
    base = load_geography(RECIPE)
    costs = base.costs
    cand = cand.assign(
        cost_cny=np.where(
            cand["type"] == "street_centre",
            costs["street_centre"].amount * costs["street_centre"].quantity,
            costs["community_station"].amount * costs["community_station"].quantity,
        )
    )
    comm = comm.assign(elders_need=comm[["moderate", "severe", "complete"]].sum(axis=1))
    return replace(
        base,
        name=f"benchmark city ({n_communities} communities, {n_candidates} candidates)",
        communities=comm,
        facilities=base.facilities.iloc[0:0],
        candidates=cand,
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    city = bench_city(args.communities, args.candidates, not args.with_villages)
    print(
        f"city: {len(city.communities):,} communities, {len(city.candidates):,} candidates "
        f"({(city.candidates['type'] == 'street_centre').sum()} centre sites), "
        f"{city.communities['elders'].sum():,.0f} elders; built in {time.perf_counter() - t0:.1f} s"
    )
    problems: list[tuple[str, dict[str, int] | None, float | None]] = []
    for c in args.counts.split(","):
        centres, stations = (int(x) for x in c.split(":"))
        problems.append(
            (
                f"{centres} centres + {stations} stations",
                {"street_centre": centres, "community_station": stations},
                None,
            )
        )
    for b in args.budgets_wan.split(","):
        problems.append((f"budget {float(b):,.0f} 万元", None, float(b) * 1e4))
    rows = []
    for minutes in (float(m) for m in args.minutes.split(",")):
        g = replace(city, walk=WalkParams(minutes, city.walk.speed_kmh, city.walk.detour_factor))
        t = time.perf_counter()
        problem, _ = build_problem(g)
        t_matrix = time.perf_counter() - t
        for name, counts, budget in problems:
            t = time.perf_counter()
            exact = solve_milp(problem, counts, budget)
            t_milp = time.perf_counter() - t
            greedy = solve_greedy(problem, counts, budget)
            total = float(problem.weights.sum())
            row = {
                "minutes": minutes,
                "problem": name,
                "coverage_pairs": int(problem.cover.nnz),
                "matrix_s": round(t_matrix, 3),
                "milp_s": round(t_milp, 3),
                "milp_optimal": exact.optimal,
                "greedy_s": round(greedy.seconds, 3),
                "milp_share": round(exact.covered / total, 5),
                "greedy_share": round(greedy.covered / total, 5),
                "milp_minus_greedy_people": round(exact.covered - greedy.covered, 1),
                "sites_milp": len(exact.chosen),
            }
            rows.append(row)
            print(
                f"  {minutes:g} min · {name:28s} pairs {row['coverage_pairs']:>7,}  "
                f"matrix {t_matrix:6.3f} s  "
                f"MILP {t_milp:7.2f} s ({'optimal' if exact.optimal else exact.status}) "
                f"{exact.covered / total:6.1%}  greedy {greedy.seconds:6.3f} s {greedy.covered / total:6.1%}"
            )
    return {
        "benchmark": "siting",
        "command": " ".join(["python", "benchmarks/bench_siting.py", *sys.argv[1:]]),
        "communities": args.communities,
        "candidates": args.candidates,
        "urban_only": not args.with_villages,
        "results": rows,
        "max_milp_s": max(r["milp_s"] for r in rows),
        "agingsim": agingsim.__version__,
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "date": dt.date.today().isoformat(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--communities", type=int, default=3000)
    p.add_argument("--candidates", type=int, default=500)
    p.add_argument("--counts", default="25:100,60:320", help="C:S pairs: at most C centres and S stations")
    p.add_argument("--budgets-wan", default="2000,6000", help="construction budgets in 万元")
    p.add_argument("--minutes", default="15,30", help="walks to try (30 makes coverage sets much larger)")
    p.add_argument(
        "--with-villages",
        action="store_true",
        help="keep rural villages (a spread-out city: catchments overlap less, the problem is easier)",
    )
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "siting.json"))
    args = p.parse_args()
    result = run(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    os.replace(tmp, out)
    print(f"slowest MILP: {result['max_milp_s']:.2f} s · written {out}")


if __name__ == "__main__":
    main()
