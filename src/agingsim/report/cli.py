"""``agingsim report RESULTS_DIR``: charts, workbook and deck from a run or compare folder.

The lead wires :func:`add_parser` into ``agingsim.cli``; :func:`main` runs the subcommand alone
(``python -m agingsim.report.cli``) with the same exit codes: 0 success; 2 invalid input (not an
agingsim output folder, unknown format); 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agingsim.report.exports import FORMATS, parse_formats


def _formats(text: str) -> tuple[str, ...]:
    try:
        return parse_formats(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def cmd_report(args: argparse.Namespace) -> int:
    from agingsim.report.data import load_results
    from agingsim.report.exports import make_report
    from agingsim.report.sweep import is_sweep_folder, make_sweep_report

    out = Path(args.out) if args.out else Path(args.results_dir) / "report"
    if is_sweep_folder(Path(args.results_dir)):
        path, files, _ = make_sweep_report(Path(args.results_dir), out, args.lang, args.formats)
        print(f"参数扫描 sweep: {Path(args.results_dir).name}")
        print(f"输出 Output: {path}/ ({len(files)} files: {', '.join(files)})")
        return 0
    results = load_results(args.results_dir)
    path, files, notes = make_report(results, out, lang=args.lang, formats=args.formats)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    kind = "对比 comparison" if results.kind == "compare" else "情景 scenario"
    names = [results.scenario_name(args.lang, i) for i in range(len(results.arms))]
    print(f"{kind}: {' vs '.join(names)}")
    print(f"输出 Output: {path}/ ({len(files)} files: {', '.join(files)})")
    return 0


def add_parser(subparsers: Any) -> None:
    """Register ``report`` on the ``agingsim`` subparsers (argparse's ``add_subparsers()`` result)."""
    rep = subparsers.add_parser(
        "report",
        help="charts (PNG/SVG), an XLSX workbook and a PPTX briefing deck from a run or compare folder",
    )
    rep.add_argument(
        "results_dir",
        metavar="RESULTS_DIR",
        help="folder written by `agingsim run`, `compare`, or a sweep's folder in the store",
    )
    rep.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of labels (default: zh)")
    rep.add_argument(
        "--formats",
        type=_formats,
        default=FORMATS,
        help=f"comma-separated subset of {','.join(FORMATS)} (default: all)",
    )
    rep.add_argument("--out", help="output folder (default: RESULTS_DIR/report)")
    rep.set_defaults(func=cmd_report)
