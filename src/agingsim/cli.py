"""Command line: ``agingsim run``, ``agingsim validate``, and the sub-commands of other modules.

Exit codes: 0 success; 2 invalid input (the message names file, key and problem); 1 anything else.

Start-up is kept short: this module imports only argparse at the top, each command imports what it
needs when it runs, and the sub-commands defined elsewhere (:data:`EXTERNAL`) are imported only when
they are the command given, so ``agingsim --help`` and ``agingsim run`` load no charting, siting,
sweep or calibration code.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import sys
import threading
from pathlib import Path
from typing import Any

from agingsim.errors import report_error

#: Sub-commands registered by another module's ``add_parser(subparsers)``: command → (module,
#: one-line help shown by ``agingsim --help``). A module is imported only when one of its commands
#: is the one given; tests/test_cli.py checks that each module registers exactly its commands.
EXTERNAL: dict[str, tuple[str, str]] = {
    "report": (
        "agingsim.report.cli",
        "charts (PNG/SVG), an XLSX workbook and a PPTX briefing deck from a run or compare folder",
    ),
    "calibrate": (
        "agingsim.calibration.cli",
        "fit the ability model to published prevalence and the life table",
    ),
    "validate-model": (
        "agingsim.calibration.cli",
        "report how well an ability model reproduces published figures (markdown + charts)",
    ),
    "sweep": ("agingsim.sweep.cli", "run a scenario over axes × replications into a results store"),
    "query": ("agingsim.sweep.cli", "DuckDB SQL over a results store (view: runs, failures)"),
    "region": ("agingsim.region.cli", "bring your own region: Excel template and import"),
    "geo": (
        "agingsim.geo.cli",
        "15-minute service circle: coverage, space standards, facility siting, synthetic geographies",
    ),
}


def finite(lo: float, above: bool = False):
    """An argparse type: a finite number of at least ``lo`` (``above``: greater than ``lo``); NaN,
    infinities and numbers out of range are errors (exit 2 with the flag named)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number (got {text})")
        if value < lo or (above and value == lo):
            bound = "above" if above else "at least"
            raise argparse.ArgumentTypeError(f"must be {bound} {lo:g} (got {text})")
        return value

    return parse


def at_least(lo: int):
    """An argparse type: a whole number of at least ``lo`` (an error is exit 2 with the flag named)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be at least {lo} (got {value})")
        return value

    return parse


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def _default_scenario() -> str:
    from agingsim.scenario.files import default_scenario_path

    return str(default_scenario_path())


def cmd_run(args: argparse.Namespace) -> int:
    start: Any = contextlib.nullcontext()
    if getattr(args, "process_command", False):  # the process exits after this run
        from agingsim.startup import frozen_start, pandas_without_pyarrow

        start = frozen_start()  # the run's collections skip what is loaded by then (startup.py)
        pandas_without_pyarrow()  # a run needs none of what pandas 3 loads pyarrow for (startup.py)
    with start:
        from agingsim.scenario import load_scenario
        from agingsim.simulate import run_scenario

        scenario = load_scenario(args.scenario or _default_scenario())
        scenario = scenario.with_run(seed=args.seed, years=args.years)
    out = Path(args.out) if args.out else Path("out") / scenario.path.stem
    from agingsim.results.output import check_out_dir

    check_out_dir(out)  # before the run, not after it
    if args.by_group:
        from agingsim.schemes.person import person_line_items

        if not person_line_items(scenario.file.policy):
            print(
                "note: --by-group: the scenario pays no person-level scheme (facility and programme "
                "schemes pay no person), so there is no spending by group: no distribution.csv",
                file=sys.stderr,
            )
    if args.replications is not None:
        from agingsim.uncertainty.cli import run_replicated

        return run_replicated(args, scenario, out)
    # no bar where tqdm's disable=None would hide it, and then no tqdm import (~30 ms)
    bar: Any = contextlib.nullcontext()
    if _interactive(sys.stderr):
        from tqdm import tqdm

        # tqdm's default lock is a multiprocessing one, which under mesa's "spawn" start method starts
        # a resource-tracker process (a second Python interpreter) for this one progress bar
        tqdm.set_lock(threading.RLock())
        bar = tqdm(total=scenario.run.years * 12, desc="模拟 simulating", unit="month", file=sys.stderr)
    with bar as progress:
        result = run_scenario(
            scenario, replication=args.replication, progress=progress, record_distribution=args.by_group
        )
    result.write(out)
    from agingsim.report.labels import both, fiscal_period, label, period_label, stock_when

    h = result.headline()
    # the one horizon convention (report.labels.fiscal_period), as the app and the report: fiscal
    # years first … last, stocks at the start of the first and the end of the last (the stock dated
    # 1 January of the year after the last is that year's year-end figure, as a yearbook gives it)
    first, last = fiscal_period(scenario.run.start_year, scenario.run.years)
    print(f"情景 Scenario: {scenario.name} ({scenario.file.scenario.name_en})")
    print(
        f"地区 Region: {scenario.region.name} · {both(lambda lang: period_label(first, last, lang))} · "
        f"seed {scenario.run.seed} · {scenario.run.simulated_people:,} simulated people"
    )
    start = both(lambda lang: stock_when(h["first_year"], first, lang))
    end = both(lambda lang: stock_when(h["last_year"], first, lang))
    print(
        f"60岁及以上人口 People 60+:      {_fmt(h['people_60plus_first'])} ({start}) → "
        f"{_fmt(h['people_60plus_last'])} ({end})"
    )
    print(
        f"需要照护(中度及以上失能) Needing care (moderate+): {_fmt(h['needing_care_first'])} → "
        f"{_fmt(h['needing_care_last'])}"
    )
    if "needing_care_served_last" in h:  # the behaviour model: who of those in need gets formal care
        mean = both(lambda lang: label("year_mean", lang, year=h["coverage_year_last"]))
        print(
            f"获得正式照护 Served by formal care ({mean}): "
            f"{_fmt(h['needing_care_served_last'])} "
            f"({h['needing_care_served_share_last']:.0%}) · 床位 Beds: {_fmt(h['beds_last'])}, "
            f"入住率 occupied {h['occupancy_last']:.0%}"
        )
    print(f"新进入60岁 Turned 60: {_fmt(h['entrants_total'])} · 死亡 Deaths: {_fmt(h['deaths_total'])}")
    print(f"输出 Output: {out}/ ({result.run_time_s:.1f} s)")
    return 0


def _interactive(stream: object) -> bool:
    """Whether a progress bar would show on ``stream``: tqdm's own test for ``disable=None``."""
    isatty = getattr(stream, "isatty", None)
    return isatty is None or bool(isatty())


def cmd_compare(args: argparse.Namespace) -> int:
    from agingsim.compare import summary_lines, write_comparison
    from agingsim.results.output import check_out_dir
    from agingsim.scenario import load_scenario
    from agingsim.simulate import run_scenario

    a = load_scenario(args.a)
    b = load_scenario(args.b)
    seed = args.seed if args.seed is not None else a.run.seed
    a, b = a.with_run(seed=seed, years=args.years), b.with_run(seed=seed, years=args.years)
    if a.inputs_population_key() != b.inputs_population_key():
        print(
            "note: the two scenarios build different populations; differences include demography",
            file=sys.stderr,
        )
    out = Path(args.out) if args.out else Path("out") / f"compare_{a.path.stem}_vs_{b.path.stem}"
    check_out_dir(out)  # before the two runs, not after them
    if args.replications is not None:
        return _compare_replicated(args, a, b, out)
    if args.workers > 1 or not args.parameter_uncertainty:
        print("note: --workers and --no-parameter-uncertainty apply with --replications", file=sys.stderr)
    ra, rb = run_scenario(a), run_scenario(b)
    table = write_comparison(ra, rb, out)
    print(f"A: {a.name}\nB: {b.name}\nseed {seed} (same synthetic people in both)")
    print("\n".join(summary_lines(table)))
    print(f"输出 Output: {out}/")
    return 0


def _compare_replicated(args: argparse.Namespace, a: Any, b: Any, out: Path) -> int:
    """``compare --replications N``: the difference with its interval (uncertainty.difference)."""
    from tqdm import tqdm

    from agingsim.uncertainty.difference import describe, paired_replications

    with tqdm(
        total=2 * args.replications, desc="重复 replications", unit="run", disable=None, file=sys.stderr
    ) as bar:
        paired = paired_replications(
            a,
            b,
            args.replications,
            parameter_uncertainty=args.parameter_uncertainty,
            workers=args.workers,
            on_done=lambda: bar.update(1),
        )
    paired.write(out)
    print(f"A: {a.name}\nB: {b.name}\nseed {a.run.seed} (same synthetic people and draws in both)")
    print("\n".join(describe(paired)))
    files = "difference.csv, differences.csv; comparison.csv of replication 0"
    print(f"输出 Output: {out}/ ({files}) ({paired.run_time_s:.1f} s)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from agingsim.scenario import load_scenario

    for path in args.scenarios:
        sc = load_scenario(path)
        print(f"OK {path}: {sc.name} · region {sc.region.id} · {len(sc.provenance)} figures with provenance")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    from agingsim.app.launch import main as launch

    return launch(list(args.options))


def _replication_options(parser: argparse.ArgumentParser, fewest: int, help_: str) -> None:
    """--replications, --no-parameter-uncertainty and --workers, the same for run and compare."""
    parser.add_argument("--replications", type=at_least(fewest), metavar="N", help=help_)
    parser.add_argument(
        "--no-parameter-uncertainty",
        dest="parameter_uncertainty",
        action="store_false",
        help="with --replications: hold every figure at its value (Monte Carlo noise only)",
    )
    parser.add_argument(
        "--workers", type=at_least(1), default=1, help="with --replications: local worker processes"
    )


def _command(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (its first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


class _Version(argparse.Action):
    """``--version``: argparse's own action, with the version looked up only when asked for
    (agingsim.__version__ imports importlib.metadata)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        import agingsim

        parser._print_message(f"agingsim {agingsim.__version__}\n", sys.stdout)  # as argparse's does
        parser.exit()


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv`` (default: sys.argv): an :data:`EXTERNAL` command's module is imported
    only when ``argv`` names that command; the others are listed by name and help."""
    parser = argparse.ArgumentParser(
        prog="agingsim",
        description="Elderly-care subsidy costing model (养老服务补贴测算模型).",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    parser.add_argument("--debug", action="store_true", help="show the traceback of any error")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario and write its outputs")
    run.add_argument(
        "scenario",
        nargs="?",
        help="scenario TOML (default: the bundled scenarios/default.toml)",
    )
    run.add_argument("--out", help="output folder (default: out/<scenario name>)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--years", type=int, help="override the horizon in years")
    run.add_argument(
        "--replication", type=at_least(0), default=0, help="replication index (spawned seed stream)"
    )
    run.add_argument(
        "--by-group",
        action="store_true",
        help="also write distribution.csv: spending and people by county, age band, ability level, "
        "economic status and residence (the app's who-gains view; person-level schemes only)",
    )
    _replication_options(
        run, 1, "run replications 0..N-1 and write intervals.csv (p05/p50/p95) beside replication 0's tables"
    )
    run.set_defaults(func=cmd_run)

    cmp_ = sub.add_parser("compare", help="run two scenarios on the same synthetic people and diff them")
    cmp_.add_argument("a")
    cmp_.add_argument("b")
    cmp_.add_argument("--seed", type=int, help="seed for both arms (default: A's)")
    cmp_.add_argument("--years", type=int, help="override the horizon of both")
    cmp_.add_argument("--out", help="output folder (default: out/compare_A_vs_B)")
    _replication_options(
        cmp_, 2, "run replications 0..N-1 of both arms and write difference.csv: the 90%% interval of B − A"
    )
    cmp_.set_defaults(func=cmd_compare)

    command = _command(sys.argv[1:] if argv is None else argv)
    if command in EXTERNAL:
        importlib.import_module(EXTERNAL[command][0]).add_parser(sub)
    for name, (_, help_) in EXTERNAL.items():
        if name not in sub.choices:  # listed for --help; its module loads when it is the command
            sub.add_parser(name, help=help_, add_help=False)

    app = sub.add_parser(
        "app",
        help="start the Streamlit app (streamlit run's options, e.g. --server.port 8501), its opening "
        "scenario's run warmed up with the server",
        add_help=False,
    )
    app.add_argument("options", nargs=argparse.REMAINDER, help="options for `streamlit run`")
    app.set_defaults(func=cmd_app)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("scenarios", nargs="+")
    val.set_defaults(func=cmd_validate)
    return parser


def dispatch(args: argparse.Namespace) -> int:
    """Run a parsed command with agingsim's exit codes: 0 success; 2 invalid input (the message names
    file, key and problem); 1 anything else; 130 interrupted (a command may set its own message)."""
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(getattr(args, "interrupted", "interrupted; no output written"), file=sys.stderr)
        return 130
    except Exception as exc:  # the top-level handler: no user error shows a traceback
        return report_error(exc, debug=getattr(args, "debug", False))


def main(argv: list[str] | None = None) -> int:
    """The command line; without ``argv`` it is the process's own command (the ``agingsim`` script,
    ``python -m agingsim``), which may then trade what a long-lived caller needs for speed
    (``cmd_run``'s :func:`agingsim.startup.frozen_start`)."""
    process_command = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if _command(argv) == "app":  # everything after `app` is streamlit's (argparse would take --help)
        at = argv.index("app") + 1
        args = build_parser(argv).parse_args(argv[:at])
        args.options = argv[at:]
        return dispatch(args)
    args = build_parser(argv).parse_args(argv)
    args.process_command = process_command
    return dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
