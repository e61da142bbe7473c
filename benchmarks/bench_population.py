"""Benchmark of the population step: the numpy array engine against a naive one-agent-per-person Mesa model.

Not a test: timings depend on the machine and its load, so they are printed and written to JSON, never
asserted. Run from anywhere::

    python benchmarks/bench_population.py [--sizes 100000,1000000,5000000] [--months 240]
        [--naive-size 20000] [--naive-months 24] [--out benchmarks/results/population.json]

Definitions:

* elder-months: rows the transition stage processes, summed over months (``people.n`` before each step
  plus that month's entrants). Rows of people who died earlier in the year are included until the
  1 January compaction; the alive-only count is reported too (counted outside the timed region).
* bytes/person (peak): tracemalloc's peak during model construction and run, divided by the peak number
  of rows (``people.capacity``). numpy's allocations are traced; the interpreter and libraries are not.
* bytes/person (static): ``People.bytes_per_person()``, the per-row state.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import mesa
import numpy as np

import agingsim
from agingsim.model import MONTHS_PER_YEAR, AgingModel
from agingsim.population.attributes import DEAD
from agingsim.population.people import People
from agingsim.scenario import Scenario
from agingsim.scenario.files import default_scenario_path
from agingsim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "population.json"
RATIO_SIZE = 1_000_000


def years_for(months: int) -> int:
    """Whole years covering ``months`` (the scenario takes integer years >= 1)."""
    return max(1, -(-months // MONTHS_PER_YEAR))


# --------------------------------------------------------------------------- array engine


def run_array(scenario: Scenario, n: int, months: int) -> tuple[AgingModel, dict[str, Any]]:
    """Build the array engine and step it ``months`` times, timing build and steps separately."""
    t0 = time.perf_counter()
    model = AgingModel(scenario.with_run(simulated_people=n, years=years_for(months)))
    build_s = time.perf_counter() - t0
    rows = alive = 0
    run_s = 0.0
    for _ in range(months):
        if not model.running:
            break
        p, entrants = model.people, int(model.entry.count[model.month])
        alive += int(np.count_nonzero(p.ability != DEAD)) + entrants  # outside the timed region
        rows += p.n + entrants
        t = time.perf_counter()
        model.step()
        run_s += time.perf_counter() - t
    return model, {"build_s": build_s, "run_s": run_s, "elder_months": rows, "alive_elder_months": alive}


def bench_array(scenario: Scenario, n: int, months: int, one_pass: bool = False) -> dict[str, Any]:
    """Time the array engine untraced, then measure its peak memory in a second, traced pass.

    tracemalloc slows the run by ~10%, so by default the timed pass is not traced; ``one_pass`` traces
    the timed pass instead (half the wall time, timings slightly pessimistic).
    """
    gc.collect()
    if one_pass:
        tracemalloc.start()
    model, timing = run_array(scenario, n, months)
    if not one_pass:
        del model
        gc.collect()
        tracemalloc.start()
        model, _ = run_array(scenario, n, months)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    capacity = model.people.capacity
    result = {
        "size": n,
        "months": months,
        **timing,
        "elder_months_per_s": timing["elder_months"] / timing["run_s"],
        "people_start": n,
        "people_end": int(model.people.n),
        "capacity": capacity,
        "peak_traced_bytes": peak,
        "peak_bytes_per_person": peak / capacity,
        "static_bytes_per_person": People.bytes_per_person(),
        "timed_pass_traced": one_pass,
    }
    del model
    gc.collect()
    return result


# --------------------------------------------------------------------------- naive Mesa


class Elder(mesa.Agent):
    """One older person as a Python object: the way the array engine avoids."""

    def __init__(self, model: NaiveModel, age_months: int, sex: int, ability: int) -> None:
        super().__init__(model)
        self.age_months = age_months
        self.sex = sex
        self.ability = ability

    def step(self) -> None:
        m: NaiveModel = self.model  # type: ignore[assignment]
        age_idx = min(max(self.age_months // MONTHS_PER_YEAR, m.age_min), m.age_max) - m.age_min
        row = m.cumulative[age_idx][self.sex][self.ability]
        r = self.random.random()
        state = 0
        while state < len(row) - 1 and r >= row[state]:
            state += 1
        if state == DEAD:
            self.remove()
            return
        self.ability = state
        self.age_months += 1


class NaiveModel(mesa.Model):
    """The same ability/death dynamics with one ``mesa.Agent`` per person; no cohort entry."""

    def __init__(self, engine: AgingModel, n: int, seed: int) -> None:
        super().__init__(rng=seed)
        am = engine.ability_model
        self.age_min, self.age_max = am.age_min, am.age_max
        # nested lists: per-agent numpy scalar indexing would make the naive version look even worse
        self.cumulative: list = np.cumsum(am.monthly, axis=-1).tolist()
        p = engine.people
        for age, sex, ability in zip(
            p.age_m[:n].tolist(), p.sex[:n].tolist(), p.ability[:n].tolist(), strict=True
        ):
            Elder(self, age, sex, ability)

    def step(self) -> None:
        self.agents.shuffle_do("step")


def bench_naive(scenario: Scenario, n: int, months: int) -> dict[str, Any]:
    """Run the naive Mesa model for ``n`` agents and ``months`` months."""
    engine = AgingModel(scenario.with_run(simulated_people=n, years=years_for(months)))
    t0 = time.perf_counter()
    model = NaiveModel(engine, n, seed=scenario.run.seed)
    build_s = time.perf_counter() - t0
    agent_months = 0
    run_s = 0.0
    for _ in range(months):
        agent_months += len(model.agents)
        t = time.perf_counter()
        model.step()
        run_s += time.perf_counter() - t
    result = {
        "size": n,
        "months": months,
        "build_s": build_s,
        "run_s": run_s,
        "agent_months": agent_months,
        "agent_months_per_s": agent_months / run_s,
        "agents_end": len(model.agents),
        "cohort_entry": False,
        "scheduler": "model.agents.shuffle_do('step')",
    }
    del model, engine
    gc.collect()
    return result


# --------------------------------------------------------------------------- output


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def print_table(array: list[dict[str, Any]], naive: dict[str, Any], ratio: dict[str, Any]) -> None:
    """The results as a plain-text table."""
    head = (
        f"{'engine':<8}{'people':>10}{'months':>8}{'build s':>9}{'run s':>9}"
        f"{'M elder-mo/s':>14}{'B/person peak':>15}{'B/person state':>16}"
    )
    print(head)
    print("-" * len(head))
    for r in array:
        print(
            f"{'array':<8}{r['size']:>10,}{r['months']:>8}{r['build_s']:>9.2f}{r['run_s']:>9.2f}"
            f"{r['elder_months_per_s'] / 1e6:>14.2f}{r['peak_bytes_per_person']:>15.1f}"
            f"{r['static_bytes_per_person']:>16}"
        )
    print(
        f"{'naive':<8}{naive['size']:>10,}{naive['months']:>8}{naive['build_s']:>9.2f}"
        f"{naive['run_s']:>9.2f}{naive['agent_months_per_s'] / 1e6:>14.3f}{'':>15}{'':>16}"
    )
    print("naive = one mesa.Agent per person, shuffle_do('step'), no cohort entry")
    print(
        f"ratio: array at {ratio['array_size']:,} people / naive = {ratio['value']:.1f}x "
        f"(target >= 50x); 1M x 240 months target <= 10 s; state target <= 64 B/person"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000,5000000", help="comma-separated people counts")
    ap.add_argument("--months", type=int, default=240)
    ap.add_argument("--naive-size", type=int, default=20_000)
    ap.add_argument("--naive-months", type=int, default=24)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--scenario", type=Path, default=default_scenario_path())
    ap.add_argument(
        "--one-pass",
        action="store_true",
        help="measure memory in the timed run (faster, ~10%% slower timings)",
    )
    args = ap.parse_args(argv)
    args.sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    if not args.sizes or min(args.sizes) < 1 or args.months < 1 or args.naive_months < 1:
        ap.error("sizes and months must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenario = load_scenario(args.scenario)

    array = []
    for n in args.sizes:  # ascending: the largest runs last
        array.append(bench_array(scenario, n, args.months, args.one_pass))
        r = array[-1]
        print(f"  array {n:,}: build {r['build_s']:.2f} s, run {r['run_s']:.2f} s", file=sys.stderr)
    naive = bench_naive(scenario, args.naive_size, args.naive_months)

    ref = min(array, key=lambda r: (abs(r["size"] - RATIO_SIZE), -r["size"]))
    ratio = {
        "array_size": ref["size"],
        "array_elder_months_per_s": ref["elder_months_per_s"],
        "naive_agent_months_per_s": naive["agent_months_per_s"],
        "value": ref["elder_months_per_s"] / naive["agent_months_per_s"],
    }
    print_table(array, naive, ratio)

    write_json_atomic(
        args.out,
        {
            "benchmark": "population_step",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "scenario": str(args.scenario),
            "sizes": args.sizes,
            "months": args.months,
            "array": array,
            "naive": naive,
            "ratio": ratio,
            "targets": {
                "run_s_1m_240_months_max": 10.0,
                "ratio_min": 50.0,
                "static_bytes_per_person_max": 64,
            },
            "versions": {
                "agingsim": agingsim.__version__,
                "numpy": np.__version__,
                "mesa": mesa.__version__,
                "python": platform.python_version(),
            },
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "machine": platform.machine(),
        },
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
