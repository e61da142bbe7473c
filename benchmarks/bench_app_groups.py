"""What recording who-gets-what by group costs an app full run (issue 19 item 6), side by side.

Alternates (A B A B) the app's full run (``RunCache.run``: payments recorded for replays) without
and with the bins by group, each on a fresh cache, and times the lazy recording run the who view
then makes for the run without them (``Run.with_groups``). Not a test: timings depend on the
machine's load; compare the arms of one run. Usage::

    python benchmarks/bench_app_groups.py [--scenario FILE_NAME] [--people N] [--repeats 4]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from agingsim.app import runs, sources

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="zhumadian_basic_services.toml")
    ap.add_argument("--people", type=int, default=100_000, help="the page's default size")
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args(argv)
    source = sources.from_file(ROOT / "scenarios" / args.scenario)
    scenario = sources.load(source, {}, simulated_people=args.people)
    times: dict[str, list[float]] = {"without_groups": [], "with_groups": [], "lazy_groups_run": []}
    for _ in range(args.repeats):
        for record in (False, True):
            cache = runs.RunCache(root=Path(tempfile.mkdtemp(prefix="agingsim-bench-")))
            t0 = time.perf_counter()
            run, _ = cache.run(scenario, record_groups=record)
            times["with_groups" if record else "without_groups"].append(time.perf_counter() - t0)
            if not record:
                t0 = time.perf_counter()
                run.with_groups()
                times["lazy_groups_run"].append(time.perf_counter() - t0)
    for what, found in times.items():
        print(f"{what}: median {statistics.median(found):.2f} s ({', '.join(f'{t:.2f}' for t in found)})")
    ratio = statistics.median(times["with_groups"]) / statistics.median(times["without_groups"])
    print(f"full run with groups / without: {ratio:.3f} (medians, {args.scenario}, {args.people} people)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
