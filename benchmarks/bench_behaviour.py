"""Benchmark: the monthly pipeline with the behaviour model on, against population only (issue 4).

Not a test: timings depend on the machine and its load; they are printed and written to JSON, never
asserted. Both arms run the same scenario and people (the bundled default, Zhumadian) at the same size;
the population-only arm drops the scenario's behaviour model. Arms alternate and each keeps its best
of ``--repeats`` runs, so a busy neighbour on a shared machine skews both alike. Run::

    python benchmarks/bench_behaviour.py [--size 1000000] [--months 240] [--repeats 2]
        [--out benchmarks/results/behaviour.json]

Reported: seconds for the months (model construction excluded, wall and process CPU), elder-months
per second, the ratio behaviour / population-only, the care stage's share of the behaviour run, and
the load average (a busy machine moves wall times far more than CPU times).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import agingsim
from agingsim.model import MONTHS_PER_YEAR, AgingModel
from agingsim.scenario.files import default_scenario_path
from agingsim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "behaviour.json"


def run(scenario: Any, months: int) -> dict[str, float]:
    model = AgingModel(scenario)
    care_s = care_cpu = 0.0
    rows = 0
    if model.care is not None:  # time the care stage inside the month: both its parts, on
        # whichever thread each runs (CareSystem.begin_step on the main one with the overlap)

        def timed(part: Any) -> Any:
            def run(*args: Any) -> Any:
                nonlocal care_s, care_cpu
                t, c = time.perf_counter(), time.thread_time()  # the part's own thread
                try:
                    return part(*args)
                finally:
                    care_s += time.perf_counter() - t
                    care_cpu += time.thread_time() - c

            return run

        model.care.begin_step = timed(model.care.begin_step)  # type: ignore[method-assign]
        model.care.finish_step = timed(model.care.finish_step)  # type: ignore[method-assign]
    done = 0

    class Rows:  # elder-months: the people at the start of each month (run's progress hook)
        def update(self, _: int) -> None:
            nonlocal rows, done
            rows += model.people.n
            done += 1
            if done == months:  # --months short of the years' end: stop there
                model.running = False

    rows = model.people.n
    t0, c0 = time.perf_counter(), time.process_time()
    model.run(progress=Rows())  # as a run does (with the overlap of AgingModel.run where it pays)
    rows -= model.people.n  # the people after the last month start no month
    return {
        "seconds": time.perf_counter() - t0,
        "care_seconds": care_s,
        # CPU seconds of the process (all threads): less moved than wall time by other jobs on a
        # shared machine, so they show whether a change of ratio is the code or the neighbours
        "cpu_seconds": time.process_time() - c0,
        "care_cpu_seconds": care_cpu,
        "elder_months": rows,
    }


def _commit() -> str | None:
    """The checkout's commit (a result is compared with the code that gave it), None outside git."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=240)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--scenario", type=Path, default=default_scenario_path())
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    years = max(1, -(-args.months // MONTHS_PER_YEAR))
    behaviour = load_scenario(args.scenario).with_run(simulated_people=args.size, years=years)
    if behaviour.behaviour is None:
        ap.error(f"{args.scenario} names no behaviour model")
    population = replace(behaviour, behaviour=None)
    best: dict[str, dict[str, float]] = {}
    for r in range(args.repeats):
        for name, scenario in (("population_only", population), ("behaviour", behaviour)):
            result = run(scenario, args.months)
            print(
                f"repeat {r + 1} {name:>16}: {result['seconds']:7.2f} s (cpu {result['cpu_seconds']:.2f} s, "
                f"care {result['care_seconds']:.2f} s, care cpu {result['care_cpu_seconds']:.2f} s)",
                flush=True,
            )
            if name not in best or result["seconds"] < best[name]["seconds"]:
                best[name] = result
    for r in best.values():
        r["elder_months_per_s"] = r["elder_months"] / r["seconds"]
    ratio = best["behaviour"]["seconds"] / best["population_only"]["seconds"]
    # the same ratio in process CPU seconds: on a shared machine, less moved by the neighbours
    ratio_cpu = best["behaviour"]["cpu_seconds"] / best["population_only"]["cpu_seconds"]
    report = {
        "benchmark": "behaviour",
        "command": "python benchmarks/bench_behaviour.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": dt.date.today().isoformat(),
        "agingsim": agingsim.__version__,
        "commit": _commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "scenario": str(args.scenario.resolve().relative_to(ROOT))
        if args.scenario.is_absolute() and args.scenario.resolve().is_relative_to(ROOT)
        else str(args.scenario),
        "size": args.size,
        "months": args.months,
        "population_only": best["population_only"],
        "behaviour": best["behaviour"],
        "ratio_behaviour_to_population_only": ratio,
        "ratio_cpu_behaviour_to_population_only": ratio_cpu,
        "care_share_of_behaviour_run": best["behaviour"]["care_seconds"] / best["behaviour"]["seconds"],
        "load_average_1_5_15_min_at_end": list(os.getloadavg()),
        "target_ratio_max": 1.4,  # issue 17 (issue 15: 1.6; issue 4 asked for 2.0)
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    p, b = best["population_only"], best["behaviour"]
    print(
        f"population only {p['seconds']:.2f} s ({p['elder_months_per_s'] / 1e6:.1f} M elder-months/s); "
        f"with behaviour {b['seconds']:.2f} s ({b['elder_months_per_s'] / 1e6:.1f} M/s); "
        f"ratio {ratio:.2f} (cpu {ratio_cpu:.2f}; target ≤ 1.4); "
        f"care stage {report['care_share_of_behaviour_run']:.0%} of the run"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
