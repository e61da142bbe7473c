"""``agingsim run --replications N``: the run command's path for replicated runs (kept out of cli.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agingsim.scenario import Scenario
from agingsim.uncertainty.run import describe, run_replications


def run_replicated(args: argparse.Namespace, scenario: Scenario, out: Path) -> int:
    """Run the replications, write replication 0's tables with the intervals, print the headline."""
    from tqdm import tqdm

    if args.replication:
        print("note: --replication is ignored with --replications (runs 0..N-1)", file=sys.stderr)
    with tqdm(
        total=args.replications, desc="重复 replications", unit="run", disable=None, file=sys.stderr
    ) as bar:
        reps = run_replications(
            scenario,
            args.replications,
            parameter_uncertainty=args.parameter_uncertainty,
            workers=args.workers,
            on_done=lambda _r: bar.update(1),
            by_group=args.by_group,
        )
    reps.write(out)
    from agingsim.report.labels import both, fiscal_period, period_label

    first, last = fiscal_period(scenario.run.start_year, scenario.run.years)
    print(f"情景 Scenario: {scenario.name} ({scenario.file.scenario.name_en})")
    print(
        f"地区 Region: {scenario.region.name} · {both(lambda lang: period_label(first, last, lang))} · "
        f"seed {scenario.run.seed} · "
        f"{scenario.run.simulated_people:,} simulated people · {reps.workers} worker(s)"
    )
    for line in describe(reps):
        print(line)
    files = "intervals.csv, replications.csv; tables of replication 0"
    print(f"输出 Output: {out}/ ({files}) ({reps.run_time_s:.1f} s)")
    return 0
