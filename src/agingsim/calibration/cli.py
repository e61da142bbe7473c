"""Command line: ``agingsim calibrate`` and ``agingsim validate-model``.

``agingsim.cli`` calls :func:`add_parser` to register both subcommands; each sets ``func`` to a handler
taking the parsed arguments and returning an exit code, like the other subcommands.
"""

from __future__ import annotations

import argparse
import os
import shlex
import time
from pathlib import Path

from agingsim.scenario import load_scenario
from agingsim.scenario.files import default_scenario_path, project_root, read_toml


def default_fitted_path() -> Path:
    return project_root() / "calibration" / "ability" / "fitted.toml"


def default_mapping_path() -> Path:
    from agingsim.calibration.fit import CENSUS_MAPPING_PATH

    return project_root() / CENSUS_MAPPING_PATH


def default_report_dir() -> Path:
    return project_root() / "calibration" / "fit"


def _command_line(args: argparse.Namespace) -> str:
    """The command that regenerates the fitted file (defaults left out)."""
    parts = ["agingsim", "calibrate"]
    if Path(args.scenario).resolve() != default_scenario_path().resolve():
        parts += ["--scenario", args.scenario]
    if args.start != "default":
        parts += ["--start", args.start]
    if args.keep_hazard_ratios:
        parts.append("--keep-hazard-ratios")
    if args.no_trend:
        parts.append("--no-trend")
    if args.out is not None and Path(args.out).resolve() != default_fitted_path().resolve():
        parts += ["--out", args.out]
    return shlex.join(parts)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from agingsim.calibration.fit import (
        CENSUS_FITTED_LEVEL,
        calibrate,
        census_mapping_toml,
        fit_census_mapping,
        fitted_toml,
        quality,
        resolve_ability,
        write_atomically,
    )
    from agingsim.calibration.fitted_file import trend_applied

    scenario = load_scenario(args.scenario)
    start_path = resolve_ability(args.start)
    out = Path(args.out) if args.out else default_fitted_path()
    t0 = time.perf_counter()
    result, labels = calibrate(
        scenario, start_path, fit_hazard_ratios=not args.keep_hazard_ratios, trend=not args.no_trend
    )
    chosen = result.chosen
    table = (start_path.parent / chosen.params.mortality.life_table).resolve()
    rel_table = os.path.relpath(table, out.resolve().parent)
    try:
        start_display = str(start_path.relative_to(project_root()))
    except ValueError:
        start_display = str(start_path)
    text = fitted_toml(
        result,
        labels,
        start_display,
        _command_line(args),
        life_table=rel_table,
        start_raw=read_toml(start_path),
    )
    write_atomically(out, text)
    mapping = fit_census_mapping(chosen.implied, scenario)
    mapping_out = default_mapping_path() if args.out is None else out.parent / default_mapping_path().name
    try:
        shown = str(out.resolve().relative_to(project_root()))
    except ValueError:
        shown = str(out)
    write_atomically(mapping_out, census_mapping_toml(mapping, _command_line(args), shown))
    q1 = quality(result.stage1.implied, chosen.targets, result.stage1)
    print(f"标定 Calibrated {start_display} to {scenario.file.population.margins} margins and the life table")
    print(f"  stage 1 (sourced figures fixed): {q1.describe()}")
    if result.stage2 is not None:
        q2 = quality(chosen.implied, chosen.targets, chosen)
        print(f"  stage 2 (CLHLS onset slopes and sex ratios freed): {q2.describe()}")
    if chosen.trend_sd is not None:
        applied = (
            "applied by the simulation"
            if trend_applied(chosen)
            else "reported, not applied by the simulation (within 2 SE of zero)"
        )
        print(
            f"  calendar trend in onset: {100 * chosen.trend:+.1f}% a year "
            f"(SE {100 * chosen.trend_sd:.1f}); {applied}"
        )
    print(
        f"  {len(chosen.free)} parameters fitted, {chosen.nfev} evaluations, {time.perf_counter() - t0:.1f} s"
    )
    if chosen.at_bound:
        print(f"  at a bound: {', '.join(chosen.at_bound)}")
    level = CENSUS_FITTED_LEVEL
    print(
        f"  census 'cannot care for self' ↔ GB/T: complete 100%, {level} {100 * mapping.share[level]:.1f}%, "
        f"other levels 0% → {mapping_out}"
    )
    print(f"输出 Output: {out}")
    return 0


def cmd_validate_model(args: argparse.Namespace) -> int:
    from agingsim.calibration.fit import resolve_ability
    from agingsim.calibration.report import validate_model
    from agingsim.results.output import check_out_dir

    scenario = load_scenario(args.scenario)
    model = resolve_ability(args.model)
    compare = resolve_ability(args.compare) if args.compare else None
    out = Path(args.out) if args.out else default_report_dir()
    check_out_dir(out)  # before the backtest and the fits, not after them
    mapping = Path(args.mapping) if args.mapping else None
    backtest = None
    if args.demography:
        from agingsim.calibration.demography import run_backtest

        backtest = run_backtest(Path(args.demography))
    summary = validate_model(scenario, model, out, compare, mapping_path=mapping, demography=backtest)
    print(f"模型验证 Validated {summary['model']}")
    print("Done-when conditions (issue 9):")
    for line in summary["conditions_text"]:
        print(line)
    print(f"  largest prevalence error {summary['max_prevalence_error_pp']:.1f} pp")
    for sex, e in summary["e60"].items():
        print(f"  e60 {sex}: model {e['model']:.2f}, life table {e['life_table']:.2f}")
    name = Path(summary["model"]).stem
    for check in summary["out_of_sample"]:
        print(
            f"  {check['figure']}: published {check['published']:.1f}, model {check['model'][name]:.1f} "
            f"(error {check['error'][name]:+.1f})"
        )
    if backtest is not None:
        demo = summary["demography"]
        within = f"{demo['within']} of {demo['total']} checks within tolerance"
        print(f"人口回测 Demographic backtest ({demo['scenario']}): {within}")
        for c in demo["checks"]:
            if not c["within"]:
                tol = c["tolerance"]
                print(f"  miss: {c['what']} {c['year']}: error {c['error']:+.4f} (tolerance {tol})")
    print(f"输出 Output: {out}/ (report.md and charts)")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``calibrate`` and ``validate-model`` on ``agingsim``'s subparsers."""
    cal = subparsers.add_parser(
        "calibrate",
        help="fit the ability model jointly to published prevalence, incidence and the life table",
        description="Fit the ability model's assumed parameters jointly to CLHLS 2011 and 2018 by band "
        "and grade, the 2015 sample survey, CLHLS onset and death-rate ratios and the life table's e60 "
        "(CLHLS 2014 held out); write them as a calibration/ability file.",
    )
    cal.add_argument(
        "--scenario",
        default=str(default_scenario_path()),
        help="scenario whose margins and region give the targets (default: scenarios/default.toml)",
    )
    cal.add_argument(
        "--start",
        default="default",
        help="ability model to start from: a name in calibration/ability or a .toml",
    )
    cal.add_argument("--out", help="fitted file to write (default: calibration/ability/fitted.toml)")
    cal.add_argument(
        "--keep-hazard-ratios",
        action="store_true",
        help="keep the death-rate ratios by level of the starting file (by default they are fitted to "
        "CLHLS's disabled/healthy death-rate ratios)",
    )
    cal.add_argument(
        "--no-trend",
        action="store_true",
        help="fit no calendar trend in onset (every wave treated as the same period)",
    )
    cal.set_defaults(func=cmd_calibrate)

    val = subparsers.add_parser(
        "validate-model",
        help="report how well an ability model reproduces published figures (markdown + charts)",
    )
    val.add_argument(
        "--model",
        default="fitted",
        help="ability model: a name in calibration/ability or a .toml (default: fitted)",
    )
    val.add_argument(
        "--compare", default="default", help="a second model shown alongside (default: default; '' for none)"
    )
    val.add_argument(
        "--scenario",
        default=str(default_scenario_path()),
        help="scenario whose margins and region give the targets (default: scenarios/default.toml)",
    )
    val.add_argument("--out", help="report folder (default: calibration/fit/)")
    val.add_argument(
        "--mapping",
        help="GB/T → census self-care mapping (default: calibration/mappings/census2020_selfcare.toml)",
    )
    val.add_argument(
        "--demography",
        default=str(project_root() / "scenarios" / "validation" / "china_2020.toml"),
        help="scenario of the demographic backtest from the 2020 census (default: "
        "scenarios/validation/china_2020.toml; '' for none)",
    )
    val.set_defaults(func=cmd_validate_model)
