"""Benchmark: a province-scale run with the behaviour model (issue 17): wall time and peak memory.

Not a test: the figures depend on the machine and its load. Runs a scenario (default: Shanxi's, at
one simulated person per 1.5 real people 60+, about 4.8 M) for ``--years`` through
``simulate.run_scenario`` and writes its outputs to a temporary folder, as ``agingsim run`` does;
reports seconds and the peak resident memory of the process (``resource.getrusage``). Run::

    python benchmarks/bench_province.py [--scenario scenarios/shanxi_beds_to_vouchers.toml]
        [--per-person 1.5] [--years 20] [--out benchmarks/results/province.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import agingsim
from agingsim.scenario.loader import load_scenario
from agingsim.simulate import run_scenario

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "shanxi_beds_to_vouchers.toml")
    ap.add_argument("--per-person", type=float, default=1.5, help="real people 60+ per simulated person")
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "province.json")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    base = load_scenario(args.scenario)
    n = round(base.region.pop_60plus / args.per_person)
    scenario = base.with_run(simulated_people=n, years=args.years)
    with tempfile.TemporaryDirectory() as tmpdir:
        result = run_scenario(scenario)
        written = sorted(p.name for p in result.write(Path(tmpdir) / "out").iterdir())
    seconds = time.perf_counter() - t0
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    report = {
        "benchmark": "province",
        "date": dt.date.today().isoformat(),
        "agingsim": agingsim.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "note": "shared machine: wall time depends on other load",
        "scenario": args.scenario.name,
        "behaviour": scenario.behaviour is not None,
        "simulated_people": n,
        "years": args.years,
        "seconds_wall": seconds,
        "peak_rss_gib": peak_gib,
        "files": written,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"{n:,} simulated people × {args.years} years: {seconds:.1f} s, peak {peak_gib:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
