"""Compare two scenarios on the same synthetic people (common random numbers).

Both arms use the same seed and replication, so the same person draws the same numbers in both:
a reform that changes nothing shows exactly zero difference, and a real difference is not noise.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agingsim.fiscal.ledger import WAN
from agingsim.results.output import csv_writer, json_writer, write_outputs
from agingsim.schemes.person import person_line_items
from agingsim.simulate import RunResult


def yearly_figures(result: RunResult) -> pd.DataFrame:
    """Per year: cost by payer level (万元), total, people served (average per month), cost per person;
    with the behaviour model also people in need, those served by formal care, beds and waits."""
    led = result.ledger
    years = sorted(result.demography["year"].unique())[:-1] or sorted(result.demography["year"].unique())
    frame = pd.DataFrame({"year": years}).set_index("year")
    if not led.empty:
        by_payer = led.pivot_table(index="year", columns="payer_level", values="amount_cny", aggfunc="sum")
        for level in by_payer.columns:
            frame[f"cost_{level}_wan"] = by_payer[level] / WAN
        frame["cost_total_wan"] = led.groupby("year")["amount_cny"].sum() / WAN
        # people paid for: only the person-level lines count people (a facility scheme's beneficiaries
        # are facilities); beneficiaries are repeated on each payer's row, so one payer per line item
        people = led[led["line_item"].isin(person_line_items(result.scenario.file.policy))]
        one_payer = people.groupby(["line_item", "year", "month", "county", "rule"])["beneficiaries"].first()
        served = one_payer.groupby(["year", "month"]).sum().groupby("year").mean()
        frame["people_served_per_month"] = served
    if not result.coverage.empty:  # the behaviour model: who of those in need gets formal care
        need, formal = result.needing_care_by_year()
        frame["needing_care"] = need
        frame["needing_care_served"] = formal
        frame["needing_care_served_share"] = formal / need.where(need > 0)
        cap = result.capacity.groupby("year")[["beds", "occupied", "waiting", "unmet_carer_hours"]].sum()
        frame["beds"] = cap["beds"]
        frame["bed_occupancy"] = cap["occupied"] / cap["beds"].where(cap["beds"] > 0)
        frame["waiting_for_a_bed"] = cap["waiting"]
        frame["unmet_carer_hours_per_month"] = cap["unmet_carer_hours"]
    frame = frame.fillna(0.0)
    if "cost_total_wan" in frame:
        # a year that spends but pays no person (an arm of bed subsidies only) has no cost per person
        # paid for: empty, not 0 (and not the spending over a count of facilities)
        served = frame["people_served_per_month"].where(frame["people_served_per_month"] > 0)
        per_person = frame["cost_total_wan"] * WAN / served
        frame["cost_per_person_served_cny_per_year"] = per_person.where(frame["cost_total_wan"] > 0, 0.0)
        if "needing_care_served" in frame:
            in_need = frame["needing_care_served"].where(frame["needing_care_served"] > 0)
            frame["cost_per_person_in_need_served_cny_per_year"] = (
                frame["cost_total_wan"] * WAN / in_need
            ).fillna(0.0)
    return frame


#: Measures only a run with a behaviour model has (yearly_figures), in the order the terminal
#: prints them; a run without one does not model them: empty in its column, not zero served.
BEHAVIOUR_MEASURES = (
    "needing_care",
    "needing_care_served",
    "needing_care_served_share",
    "beds",
    "bed_occupancy",
    "waiting_for_a_bed",
    "unmet_carer_hours_per_month",
    "cost_per_person_in_need_served_cny_per_year",
)


def _with_every_measure(frame: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """``frame`` with a column for each of ``measures``: a measure the run lacks is zero where it is
    money or people paid (a run whose ledger has no such payer paid nothing) and empty (NaN) where
    it is the behaviour model's (the run did not model who is served)."""
    missing = [m for m in measures if m not in frame.columns]
    out = frame.reindex(columns=measures)
    for m in missing:
        out[m] = float("nan") if m in BEHAVIOUR_MEASURES else 0.0
    return out


def compare_results(a: RunResult, b: RunResult) -> pd.DataFrame:
    """Long table: year, measure, A, B, B − A, over the union of both runs' years.

    A year one run does not cover (different start years or horizons) has an empty (NaN) cell for that
    run and for B − A: a missing year is marked missing, never read as zero spending. So has a
    behaviour measure (people served, beds, waits) of a run without a behaviour model."""
    return compare_frames(yearly_figures(a), yearly_figures(b))


def compare_frames(fa: pd.DataFrame, fb: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare_results` from each arm's :func:`yearly_figures` (replications compute those in
    worker processes and compare them here)."""
    measures = sorted(set(fa.columns) | set(fb.columns))
    years = sorted(set(fa.index) | set(fb.index))
    fa, fb = (
        _with_every_measure(fa, measures).reindex(index=years),
        _with_every_measure(fb, measures).reindex(index=years),
    )
    out = []
    for measure in measures:
        out.append(
            pd.DataFrame(
                {
                    "year": years,
                    "measure": measure,
                    "a": fa[measure].to_numpy(),
                    "b": fb[measure].to_numpy(),
                }
            )
        )
    table = pd.concat(out, ignore_index=True)
    table["b_minus_a"] = table["b"] - table["a"]
    return table


def years_covered(a: RunResult, b: RunResult) -> dict[str, list[int]]:
    """The years each arm covers and those only one does (summary.json of a comparison)."""
    ya, yb = set(yearly_figures(a).index), set(yearly_figures(b).index)
    return {
        "years_a": sorted(int(y) for y in ya),
        "years_b": sorted(int(y) for y in yb),
        "years_only_a": sorted(int(y) for y in ya - yb),
        "years_only_b": sorted(int(y) for y in yb - ya),
    }


#: Measures of comparison.csv shown as the mean of the years (people, shares, cost per person), in
#: the order printed (unmet carer hours stay in comparison.csv); the money (``cost_<payer
#: level>_wan``, then the total) is summed.
YEARLY = (
    "people_served_per_month",
    *(m for m in BEHAVIOUR_MEASURES if m != "unmet_carer_hours_per_month"),
)
#: Yearly figures that are shares, printed as per cent (their difference in percentage points).
SHARES = ("needing_care_served_share", "bed_occupancy")


def is_money(measure: str) -> bool:
    """Spending in 万元 (summed over years); every other measure is a yearly figure (averaged)."""
    return measure.endswith("_wan")


def common_years(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the years both arms cover (a year one arm does not run has no B − A)."""
    covered = table.groupby("year")["b_minus_a"].transform(lambda d: d.notna().any())
    return table[covered]


def overall(table: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """Each measure's (A, B, B − A) over the years both arms cover: money summed, other measures the
    mean of those years; NaN for an arm that does not model a measure (no behaviour model), and then
    for B − A. Arms with no year in common: each over its own years, B − A NaN (nothing comparable).
    In the table's order of measures. The one reckoning behind the terminal's summary, the app's
    A-vs-B table and the workbook's."""
    both = common_years(table)
    apart = both.empty  # no year in common: each arm over its own years, nothing to subtract
    out: dict[str, tuple[float, float, float]] = {}
    for measure, rows in (table if apart else both).groupby("measure", sort=False):
        if is_money(str(measure)):
            a, b = rows["a"].sum(min_count=1), rows["b"].sum(min_count=1)
        else:
            a, b = rows["a"].mean(), rows["b"].mean()
        out[str(measure)] = (float(a), float(b), float("nan") if apart else float(b - a))
    return out


def ordered_measures(figures: dict[str, Any]) -> list[str]:
    """The measures of :func:`overall` the terminal prints, in its order: spending by payer level
    (levels in the schema's order, the total last), then the yearly figures (:data:`YEARLY`)."""
    from agingsim.report.labels import PAYER_LEVELS

    levels = [f"cost_{level}_wan" for level in PAYER_LEVELS]
    money = sorted(m for m in figures if is_money(m))
    summed = [m for m in levels if m in figures] + [m for m in money if m not in levels]
    summed.sort(key=lambda m: m == "cost_total_wan")  # the total last
    return summed + [m for m in YEARLY if m in figures]


def spell_years(years: Iterable[Any]) -> str:
    """``2025–2034`` for the distinct years given (one year alone, ``none`` for none)."""
    ys = sorted({int(y) for y in years})
    return f"{ys[0]}–{ys[-1]}" if len(ys) > 1 else str(ys[0]) if ys else "none"


def summary_lines(table: pd.DataFrame) -> list[str]:
    """What ``agingsim compare`` prints: over the years both arms cover, the spending of each payer
    level summed, and (with the behaviour model) the people in need, those served, beds, waits and
    cost per person in need served as the mean of each year's figure: what it costs, and how many of
    those who need care get it. A, B and B − A in columns, the measure's words after them (Chinese
    and English); a difference that rounds to nothing prints as +0 (never −0.0). Measures only one
    arm models are named, not set against an empty arm; arms with no year in common show each
    arm's spending over its own years and no difference (—)."""
    from agingsim.report.labels import measure_label

    both = common_years(table)
    apart = both.empty
    figures = overall(table)
    lines = ["".join(f"{h:>17}     " for h in ("A", "B", "B−A")).rstrip()]

    def row(measure: str, a: float, b: float, decimals: int, unit: str = "") -> str:
        d = round(b - a, decimals) + 0.0  # + 0.0: −0.0 becomes 0.0
        diff_unit = unit and " pt"  # a share's difference is in percentage points
        diff = "—" if apart else f"{d:+,.{decimals}f}"
        cells = (f"{a:,.{decimals}f}", unit), (f"{b:,.{decimals}f}", unit), (diff, diff_unit)
        words = f"{measure_label(measure, 'zh')} {measure_label(measure, 'en')}"
        return "".join(f"{n:>17}{u:<5}" for n, u in cells) + words

    summed = [m for m in ordered_measures(figures) if is_money(m)]
    if apart:  # nothing to subtract: each arm's spending over its own years, said plainly
        own = [spell_years(table.loc[table[arm].notna(), "year"]) for arm in "ab"]
        lines.append(
            f"无共同年份 no year both arms cover (A {own[0]}, B {own[1]}): each arm over its own years"
        )
        return lines + [row(m, *figures[m][:2], 1) for m in summed]
    span = spell_years(both["year"])
    if summed:
        lines.append(f"{span} 合计 total over the years both cover:")
        lines += [row(m, *figures[m][:2], 1) for m in summed]
    yearly = [m for m in YEARLY if m in figures and not np.isnan(figures[m][2])]
    if yearly:
        lines.append(f"{span} 年均 mean of the years:")
        for m in yearly:
            a, b, _ = figures[m]
            lines.append(row(m, 100 * a, 100 * b, 1, " %") if m in SHARES else row(m, a, b, 0))
    alone = [m for m in YEARLY if m in figures and np.isnan(figures[m][2])]
    for arm, k in (("A", 0), ("B", 1)):
        only = [m for m in alone if not np.isnan(figures[m][k])]
        if only:
            other = "B" if arm == "A" else "A"
            lines.append(
                f"  仅{arm}方案模拟照护服务（{other}方案无行为模型） only {arm} models who is served "
                f"({other} names no behaviour model): {', '.join(only)} in comparison.csv"
            )
    return lines


def comparison_record(a: RunResult, b: RunResult) -> dict[str, Any]:
    """summary.json of a comparison folder: both runs' records, the seed and the years covered."""
    return {"a": a.summary(), "b": b.summary(), "seed": a.scenario.run.seed, **years_covered(a, b)}


def write_comparison(a: RunResult, b: RunResult, out: Path) -> pd.DataFrame:
    """The comparison folder (comparison.csv and both runs' summaries), as ``agingsim compare`` and the
    app write it; returns the table."""
    table = compare_results(a, b)
    summary = comparison_record(a, b)
    write_outputs(out, {"comparison.csv": csv_writer(table, "%.4f"), "summary.json": json_writer(summary)})
    return table
