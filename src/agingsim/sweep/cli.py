"""``agingsim sweep`` and ``agingsim query``; :func:`add_parser` plugs them into the main CLI.

Exit codes as in agingsim.cli: 0 success; 2 invalid sweep or scenario file (FILE: KEY: PROBLEM);
1 anything else, including a sweep in which some runs failed (they are listed).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def cmd_sweep(args: argparse.Namespace) -> int:
    from agingsim.sweep.runner import run_sweep

    report = run_sweep(args.sweep_file, store=args.store, workers=args.workers, scheduler=args.scheduler)
    print("\n".join(report.lines()))
    return 1 if report.failures else 0


def cmd_query(args: argparse.Namespace) -> int:
    import pandas as pd

    from agingsim.sweep.store import query

    table = query(args.store, args.sql)
    if args.csv:
        table.to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        with pd.option_context("display.max_rows", 200, "display.width", 200):
            print(table.to_string(index=False) if len(table) else "(no rows)")
    return 0


def add_parser(subparsers: Any) -> None:
    """Register ``sweep`` and ``query`` on the main CLI's subparsers."""
    from agingsim.cli import at_least

    sw = subparsers.add_parser("sweep", help="run a scenario over axes × replications into a results store")
    sw.add_argument("sweep_file", help="sweep TOML (see sweeps/example.toml)")
    sw.add_argument(
        "--workers", type=at_least(1), help="local worker processes (default: one per core; 1 = this process)"
    )
    sw.add_argument(
        "--scheduler", help="Dask scheduler address (tcp://host:8786): run on that cluster instead"
    )
    sw.add_argument("--store", default="out/sweeps", help="results store folder (default: out/sweeps)")
    sw.set_defaults(
        func=cmd_sweep,
        interrupted="interrupted; finished runs are in the store: run the sweep again to resume",
    )

    q = subparsers.add_parser("query", help="DuckDB SQL over a results store (view: runs, failures)")
    q.add_argument("store", help="store folder, or one sweep's folder in it")
    q.add_argument(
        "sql", help='e.g. "SELECT year, avg(cost_total_wan) FROM runs GROUP BY year ORDER BY year"'
    )
    q.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    q.set_defaults(func=cmd_query)
