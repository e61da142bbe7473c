"""Command line: ``agingsim geo synth | coverage | site``.

``agingsim.cli`` calls :func:`add_parser`; each sub-command sets ``func`` to a handler returning an
exit code and runs through the shared ``dispatch()`` (2 for bad input naming file and row, 1 other
errors). Every output folder is written atomically (agingsim.results.output.write_outputs).
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agingsim import __version__
from agingsim.errors import ScenarioError
from agingsim.geo.geography import Geography, load_geography, read_geography_file, resolve_geography
from agingsim.results.output import Writer, csv_writer, json_writer, write_outputs

MARKER = "geo_summary.json"


def _geography(args: argparse.Namespace) -> Geography:
    """The geography named on the command line, or a scenario's, with walking flags applied."""
    if args.scenario:
        from agingsim.scenario import load_scenario

        sc = load_scenario(args.scenario)
        if sc.geography is None:
            raise ScenarioError(args.scenario, "geography", "the scenario has no [geography] section")
        g = sc.geography
    elif args.geography:
        g = load_geography(args.geography)
    else:
        raise ScenarioError("(command line)", "geography", "name a geography or give --scenario")
    return g.with_walk(args.minutes, args.speed, args.detour)


def _png_writer(fig: Any) -> Writer:
    def write(path: Path) -> None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
        path.write_bytes(buf.getvalue())

    return write


def _walk_summary(g: Geography) -> dict[str, Any]:
    w = g.walk
    return {
        "geography": g.name,
        "geography_file": str(g.path) if g.path else None,
        "synthetic": g.synthetic,
        "minutes": w.minutes,
        "walk_speed_kmh": w.speed_kmh,
        "detour_factor": w.detour_factor,
        "walk_km": w.walk_km,
        "straight_line_reach_km": w.radius_km,
        "agingsim_version": __version__,
    }


def _years_of(g: Geography) -> list[int]:
    opens = g.facilities["opens"].dropna().astype(int)
    if opens.empty:
        return []
    return list(range(int(opens.min()) - 1, int(opens.max()) + 1))


def cmd_synth(args: argparse.Namespace) -> int:
    from agingsim.geo.synthetic import SYNTHETIC_SOURCE, CountyTotals, SynthSpec, synthesize
    from agingsim.scenario.files import load_labelled, project_root, resolve_input, validate_file
    from agingsim.scenario.loader import load_population_base
    from agingsim.scenario.schema import RegionFile

    path = resolve_geography(args.geography)
    spec_file, _, _ = read_geography_file(path)
    if not spec_file.synth:
        raise ScenarioError(path, "synth", "no [synth] recipe: only synthetic geographies can be generated")
    if not spec_file.region:
        raise ScenarioError(path, "region", "a synthetic geography needs the region whose elders it spreads")
    spec = validate_file(SynthSpec, spec_file.synth, path, prefix="synth")
    region_path = resolve_input(spec_file.region, "regions", path, "region")
    region, _ = load_labelled(region_path, RegionFile)
    # a region with a population base states its 60+ as the base table's (at the reference date)
    region, _, _ = load_population_base(region, region_path)
    counties = [
        CountyTotals(c.id, region.pop_60plus * c.share_60plus, c.urban_share) for c in region.counties
    ]
    try:
        display = str(path.resolve().relative_to(project_root()))
    except ValueError:
        display = str(path)
    source = SYNTHETIC_SOURCE.format(file=display, seed=spec.seed)
    try:
        comm, fac, cand = synthesize(spec, counties, source)
    except ValueError as exc:
        raise ScenarioError(path, "synth", str(exc)) from None
    targets = {
        "communities": spec_file.communities,
        "facilities": spec_file.facilities,
        "candidates": spec_file.candidates,
    }
    folders = {(path.parent / p).parent for p in targets.values() if p}
    if len(folders) != 1:
        raise ScenarioError(
            path, "communities", "synth writes one folder: put the three tables in the same one"
        )
    out = Path(args.out) if args.out else folders.pop()
    frames = {"communities": comm, "facilities": fac, "candidates": cand}
    writers: dict[str, Writer] = {
        Path(p).name: csv_writer(frames[k], "%.3f") for k, p in targets.items() if p
    }
    write_outputs(out, writers, marker=Path(spec_file.communities).name, what="a synthetic geography folder")
    print(f"合成地理 Synthetic geography: {spec_file.name} (seed {spec.seed})")
    print(
        f"  {len(comm):,} communities ({(comm['type'] == 'urban').sum():,} urban in "
        f"{comm['living_circle'].replace('', np.nan).nunique()} living circles), "
        f"{comm['elders'].sum():,.0f} elders; {len(fac):,} planned facilities; {len(cand):,} candidate sites"
    )
    print(f"输出 Output: {out}/")
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from agingsim.geo.coverage import county_access, coverage_by_community, coverage_summary, space_standards

    g = _geography(args)
    year = args.year
    by_comm = coverage_by_community(g, year)
    summary_table = coverage_summary(by_comm, g.counties)
    standards = space_standards(g, year)
    years = _years_of(g)
    writers: dict[str, Writer] = {
        "coverage_by_community.csv": csv_writer(by_comm, "%.4f"),
        "coverage_summary.csv": csv_writer(summary_table, "%.4f"),
        "space_standards.csv": csv_writer(standards, "%.2f"),
    }
    if years:
        writers["access_by_year.csv"] = csv_writer(county_access(g, years), "%.4f")
    total = summary_table[summary_table["level"] == "all"].iloc[0]
    checked_res = standards["meets_per_resident"].notna()
    checked_hh = standards["meets_per_households"].notna()
    result = {
        **_walk_summary(g),
        "year": year,
        "communities": len(by_comm),
        "elders": float(by_comm["elders"].sum()),
        "share_within_any": float(total["share_within_any"]),
        "share_need_within_any": None
        if pd.isna(total["share_need_within_any"])
        else float(total["share_need_within_any"]),
        "share_within_street_centre": float(total["share_within_street_centre"]),
        "share_within_community_station": float(total["share_within_community_station"]),
        "space_standard_per_resident_met": int(standards.loc[checked_res, "meets_per_resident"].sum()),
        "space_standard_per_resident_checked": int(checked_res.sum()),
        "space_standard_households_met": int(standards.loc[checked_hh, "meets_per_households"].sum()),
        "space_standard_households_checked": int(checked_hh.sum()),
    }
    writers[MARKER] = json_writer(result)
    if not args.no_map:
        from agingsim.geo.maps import core_extent, coverage_map, map_footer

        writers["coverage_map.png"] = _png_writer(coverage_map(g, year, args.lang, footer=map_footer(g)))
        writers["coverage_map_core.png"] = _png_writer(
            coverage_map(g, year, args.lang, extent=core_extent(g), footer=map_footer(g))
        )
    out = Path(args.out) if args.out else Path("out") / "geo_coverage"
    write_outputs(out, writers, marker=MARKER, what="an agingsim geo output folder")
    when = f"in {year}" if year is not None else "(all facilities in the file)"
    print(f"15分钟养老服务圈 15-minute service circle: {g.name} {when}")
    print(
        f"  walk {g.walk.minutes:g} min × {g.walk.speed_kmh:g} km/h = {g.walk.walk_km:.2f} km "
        f"(straight line {g.walk.radius_km:.2f} km)"
    )
    print(f"  elders within reach of a centre or station: {result['share_within_any']:.1%}")
    if result["share_need_within_any"] is not None:
        print(f"  elders needing care within reach: {result['share_need_within_any']:.1%}")
    if checked_res.any():
        print(
            f"  space standard 0.1 m²/resident (002-三(一)-1, 003-10-1) met in "
            f"{result['space_standard_per_resident_met']:,} of "
            f"{result['space_standard_per_resident_checked']:,} communities"
        )
    print(f"输出 Output: {out}/")
    return 0


def cmd_site(args: argparse.Namespace) -> int:
    from agingsim.geo.siting import compare_with_targets, site_facilities

    g = _geography(args)
    counts = {}
    if args.centres is not None:
        counts["street_centre"] = args.centres
    if args.stations is not None:
        counts["community_station"] = args.stations
    budget = args.budget_wan * 1e4 if args.budget_wan is not None else None
    if not counts and budget is None:
        if g.targets is None:
            raise ScenarioError("(command line)", "--centres/--stations/--budget-wan", "say what to build")
        counts = dict(g.targets.counts)
    weight = "elders_need" if args.weight == "need" else "elders"
    t0 = time.perf_counter()
    result = site_facilities(
        g,
        counts=counts or None,
        budget_cny=budget,
        weight=weight,
        existing_year=args.existing_year,
        method=args.method,
        time_limit=args.time_limit,
    )
    s = {**_walk_summary(g), **result.summary, "counts": counts or None, "seconds_total": 0.0}
    writers: dict[str, Writer] = {"sites.csv": csv_writer(result.sites, "%.3f")}
    if args.targets:
        if g.targets is None:
            raise ScenarioError(g.path or "(geography)", "targets", "the geography file has no [targets]")
        writers["targets.csv"] = csv_writer(
            compare_with_targets(g, weight, args.method, args.time_limit), "%.4f"
        )
    if not args.no_map:
        from agingsim.geo.maps import core_extent, coverage_map, map_footer

        sites = result.sites.assign(name="", community="", beds=0.0, floor_m2=0.0)
        writers["siting_map.png"] = _png_writer(
            coverage_map(
                g, args.existing_year, args.lang, extent=core_extent(g), new_sites=sites, footer=map_footer(g)
            )
        )
    s["seconds_total"] = round(time.perf_counter() - t0, 3)
    writers[MARKER] = json_writer({k: _plain(v) for k, v in s.items()})
    out = Path(args.out) if args.out else Path("out") / "geo_siting"
    write_outputs(out, writers, marker=MARKER, what="an agingsim geo output folder")
    what = "elders needing care" if weight == "elders_need" else "elders"
    print(
        f"选址 Siting on {g.name}: {s['sites_chosen']} sites by {s['method']}"
        + (" (optimal)" if s["optimal"] else "")
    )
    print(
        f"  {what} within reach: {s['share_before']:.1%} → {s['share_after']:.1%} "
        f"(+{s['newly_covered']:,.0f})"
    )
    if s["mip_gap"] is not None and not s["optimal"]:
        print(f"  time limit reached: within {s['mip_gap']:.3%} of the best possible (HiGHS bound)")
    per = s["covered_per_10k_cny"]
    print(
        f"  construction subsidy {s['construction_subsidy_cny'] / 1e4:,.1f} 万元"
        + (f"; {per:.2f} {what} newly covered per 10,000 CNY" if per is not None else "")
    )
    print(
        f"  solved in {s['solve_seconds']:.2f} s "
        f"({s['candidates']} candidates × {s['communities']} communities)"
    )
    print(f"输出 Output: {out}/")
    return 0


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _common(p: argparse.ArgumentParser, positional: bool = True) -> None:
    from agingsim.cli import finite

    if positional:
        p.add_argument(
            "geography",
            nargs="?",
            help="a geography in calibration/geo (e.g. guiyang_synthetic) or its .toml",
        )
        p.add_argument("--scenario", help="use this scenario's [geography] (and its walking assumptions)")
        p.add_argument(
            "--minutes", type=finite(0, above=True), help="override the walk in minutes (default: the file's)"
        )
        p.add_argument("--speed", type=finite(0, above=True), help="override walking speed, km/h")
        p.add_argument(
            "--detour", type=finite(1), help="override the detour factor (street ÷ straight-line, ≥ 1)"
        )
    p.add_argument("--out", help="output folder")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="map labels (default zh)")
    p.add_argument("--no-map", action="store_true", help="skip the PNG maps")


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``geo`` (synth, coverage, site) on ``agingsim``'s subparsers."""
    from agingsim.cli import at_least, finite

    geo = subparsers.add_parser(
        "geo",
        help="15-minute service circle: coverage, space standards, facility siting, synthetic geographies",
        description="Spatial coverage of elderly-service centres and stations (15分钟养老服务圈) and "
        "where to build new ones. Maps are drawn without online tiles.",
    )
    sub = geo.add_subparsers(dest="geo_command", required=True)

    syn = sub.add_parser("synth", help="generate a synthetic geography's tables from its [synth] recipe")
    syn.add_argument("geography", help="a geography in calibration/geo with a [synth] table, or its .toml")
    syn.add_argument("--out", help="folder for the tables (default: the folder the geography file names)")
    syn.set_defaults(func=cmd_synth)

    cov = sub.add_parser("coverage", help="who is within a 15-minute walk; space standards per community")
    _common(cov)
    cov.add_argument("--year", type=int, help="count facilities open in this year (default: all in the file)")
    cov.set_defaults(func=cmd_coverage)

    site = sub.add_parser("site", help="choose new sites to cover the most elders (maximal covering, MILP)")
    _common(site)
    site.add_argument("--centres", type=at_least(0), help="number of new street centres (街道养老服务中心)")
    site.add_argument(
        "--stations", type=at_least(0), help="number of new community stations (社区养老服务站)"
    )
    site.add_argument("--budget-wan", type=finite(0), help="construction-subsidy budget in 万元 (10,000 CNY)")
    site.add_argument(
        "--weight", choices=["elders", "need"], default="elders", help="cover elders or those in need"
    )
    site.add_argument(
        "--existing-year",
        type=int,
        help="facilities open in this year stay and cover their elders (default: all in the file)",
    )
    site.add_argument("--method", choices=["auto", "milp", "greedy"], default="auto")
    site.add_argument(
        "--time-limit",
        type=finite(0, above=True),
        default=60.0,
        help="MILP time limit in seconds (default 60); then the best plan found is kept, with its bound",
    )
    site.add_argument(
        "--targets", action="store_true", help="also compare with the plan's target counts (targets.csv)"
    )
    site.set_defaults(func=cmd_site)
