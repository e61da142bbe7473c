"""Charts for briefings and papers, each a matplotlib Figure built from a plain DataFrame.

The functions take the tables the model writes (or documented shapes for outputs still to come), so the
CLI, the app and a notebook draw the same chart. Every chart: Chinese or English labels in a CJK font,
colours whose lightness differs enough to survive greyscale printing, hatching on stacked bars, numbers
with thousands separators, and a footer naming scenario, seed, version and date so a slide pasted
into a briefing still says where it came from. Figures are built with ``Figure()`` rather than pyplot:
no global figure registry, no GUI backend, nothing to close.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from agingsim.population.attributes import ABILITY_LEVELS
from agingsim.report.fonts import use_cjk_font
from agingsim.report.labels import (
    Lang,
    ability_label,
    fmt_number,
    label,
    line_item_label,
    payer_label,
    setting_label,
    stock_when,
)

#: Hatches for stacked series, in order; the first (darkest) series is solid.
HATCHES: tuple[str, ...] = ("", "///", "...", "xxx", "\\\\\\", "ooo", "+++", "---", "|||")
#: Where each payer level sits on the palette's lightness scale, so colours agree across charts.
PAYER_SHADE: dict[str, float] = {"province": 0.1, "city": 0.45, "county": 0.85}
FIGSIZE = (10.0, 5.6)
#: Height of the footer strip relative to the chart.
_FOOTER_HEIGHT = 0.045


def luminance(color: object) -> float:
    """Relative luminance (what a greyscale printer keeps) of a colour, 0 black to 1 white."""
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def shades(n: int) -> list[tuple[float, float, float]]:
    """``n`` colours from dark to light (viridis: lightness rises monotonically, readable in grey)."""
    cmap = mpl.colormaps["viridis"]
    points = [0.5] if n == 1 else np.linspace(0.05, 0.95, n)
    return [to_rgb(cmap(p)) for p in points]


def _shade_at(p: float) -> tuple[float, float, float]:
    return to_rgb(mpl.colormaps["viridis"](p))


def _wrap(text: str, width: int = 48) -> str:
    """Long (English) legend entries on two lines rather than squeezing the chart."""
    return "\n".join(textwrap.wrap(text, width)) if len(text) > width else text


def _hatch_color(color: object) -> str:
    return "white" if luminance(color) < 0.3 else "#222222"


def _year_ticks(ax: Axes, years: Sequence[int]) -> None:
    """Every year labelled up to 15 years; beyond that, a readable subset."""
    if 0 < len(years) <= 15:
        ax.set_xticks(list(years), [str(int(y)) for y in years])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))


def _thousands(decimals: int = 0) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: fmt_number(v, decimals))


def _figure(
    footer: str, nrows: int = 1, height_ratios: Sequence[float] | None = None
) -> tuple[Figure, list[Axes]]:
    """A figure whose bottom strip holds the footer line, below the chart and its legend.

    The footer lives in its own subfigure so that the layout engine can never place a legend over it.
    """
    use_cjk_font()
    mpl.rcParams["hatch.linewidth"] = 0.6
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    main, foot = fig.subfigures(2, 1, height_ratios=(1, _FOOTER_HEIGHT))
    kw = {"height_ratios": list(height_ratios)} if height_ratios else {}
    axes = main.subplots(nrows, 1, sharex=nrows > 1, gridspec_kw=kw, squeeze=False)[:, 0].tolist()
    for ax in axes:
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=9)
    foot.text(0.01, 0.5, footer, ha="left", va="center", fontsize=7.5, color="#444444")
    return fig, axes


def _legend_below(ax: Axes, ncols: int | None = None, handles: list[Any] | None = None) -> None:
    """Legend under the chart (inside the chart's subfigure, so above the footer)."""
    labels: list[str]
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    else:
        labels = [h.get_label() for h in handles]
    if handles:
        ax.get_figure(root=False).legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=ncols or min(len(handles), 4),
            frameon=False,
            fontsize=9,
        )


def _stacked_bars(
    ax: Axes,
    years: Sequence[int],
    series: list[tuple[str, np.ndarray]],
    colors: Sequence[object],
    totals_label: bool = True,
) -> None:
    """Stacked bars with hatching; the total written above each bar when there is room."""
    bottom = np.zeros(len(years))
    x = np.asarray(years)
    for i, ((name, values), color) in enumerate(zip(series, colors, strict=True)):
        ax.bar(
            x,
            values,
            bottom=bottom,
            label=_wrap(name),
            color=color,
            hatch=HATCHES[i % len(HATCHES)],
            hatchcolor=_hatch_color(color),
            edgecolor="white",
            linewidth=0.5,
            width=0.72,
        )
        bottom = bottom + values
    _year_ticks(ax, x)
    ax.yaxis.set_major_formatter(_thousands())
    if totals_label and 0 < len(x) <= 25:
        decimals = 0 if bottom.max(initial=0) >= 100 else 1
        for xi, total in zip(x, bottom, strict=True):
            ax.annotate(
                fmt_number(total, decimals),
                (xi, total),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                color="#333333",
            )
        ax.margins(y=0.08)


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    """year-indexed numeric columns, without the total column of ledger_by_*.csv."""
    wide = frame.set_index("year") if "year" in frame.columns else frame
    return wide.drop(columns=["total"], errors="ignore").sort_index()


def cost_by_payer(by_payer: pd.DataFrame, lang: Lang, footer: str) -> Figure:
    """Spending by year stacked by payer level (万元).

    Input: ledger_by_payer.csv's shape, ``year`` and a column per payer level (``total`` is ignored).
    """
    wide = _wide(by_payer)
    order = [lvl for lvl in PAYER_SHADE if lvl in wide.columns] + [
        c for c in wide.columns if c not in PAYER_SHADE
    ]
    fig, (ax,) = _figure(footer)
    colors = [_shade_at(PAYER_SHADE.get(c, 0.65)) for c in order]
    series = [(payer_label(c, lang), wide[c].to_numpy(float)) for c in order]
    _stacked_bars(ax, wide.index.tolist(), series, colors)
    ax.set_title(label("title_cost_by_payer", lang), fontsize=13, loc="left")
    ax.set_xlabel(label("axis_year", lang))
    ax.set_ylabel(label("axis_cost_wan", lang))
    _legend_below(ax)
    return fig


def cost_by_line_item(
    by_line_item: pd.DataFrame, lang: Lang, footer: str, names: Mapping[str, tuple[str, str]] | None = None
) -> Figure:
    """Spending by year stacked by line item (万元), largest line at the bottom; names from the scenario."""
    wide = _wide(by_line_item)
    order = wide.sum().sort_values(ascending=False).index.tolist()
    fig, (ax,) = _figure(footer)
    series = [(line_item_label(c, names or {}, lang), wide[c].to_numpy(float)) for c in order]
    _stacked_bars(ax, wide.index.tolist(), series, shades(len(order)))
    ax.set_title(label("title_cost_by_line_item", lang), fontsize=13, loc="left")
    ax.set_xlabel(label("axis_year", lang))
    ax.set_ylabel(label("axis_cost_wan", lang))
    _legend_below(ax, ncols=2 if len(order) > 3 else None)
    return fig


def compare_costs(
    comparison: pd.DataFrame,
    lang: Lang,
    footer: str,
    names: tuple[str, str] = ("A", "B"),
    measure: str = "cost_total_wan",
    title: str = "title_compare",
    axis: str = "axis_cost_wan",
    diff_axis: str = "axis_diff_wan",
    more: str = "legend_increase",
    less: str = "legend_decrease",
) -> Figure:
    """Scheme A vs B from comparison.csv (``year, measure, a, b, b_minus_a``): both arms and B − A.

    Any measure can be drawn; ``title``/``axis``/``diff_axis`` are label keys (cost in 万元 by default,
    e.g. people in need served by formal care for the headline supply-vs-demand comparison)."""
    rows = comparison[comparison["measure"] == measure].sort_values("year")
    years = rows["year"].to_numpy()
    fig, (top, bottom) = _figure(footer, nrows=2, height_ratios=(2, 1))
    dark, light = _shade_at(0.1), _shade_at(0.6)
    top.plot(
        years,
        rows["a"],
        color=dark,
        marker="o",
        linewidth=2,
        label=f"A：{names[0]}" if lang == "zh" else f"A: {names[0]}",
    )
    top.plot(
        years,
        rows["b"],
        color=light,
        marker="s",
        linestyle="--",
        linewidth=2,
        label=f"B：{names[1]}" if lang == "zh" else f"B: {names[1]}",
    )
    top.set_title(label(title, lang), fontsize=13, loc="left")
    top.set_ylabel(label(axis, lang))
    top.yaxis.set_major_formatter(_thousands())
    top.set_ylim(bottom=0)
    _legend_below(top, ncols=1)
    diff = rows["b_minus_a"].to_numpy(float)
    up = diff >= 0
    increase, decrease = label(more, lang), label(less, lang)
    more = {"facecolor": dark, "label": increase}
    less = {
        "facecolor": _shade_at(0.85),
        "hatch": "///",
        "hatchcolor": "#222222",
        "edgecolor": "white",
        "label": decrease,
    }
    bottom.bar(years[up], diff[up], width=0.72, **more)
    bottom.bar(years[~up], diff[~up], width=0.72, **less)
    bottom.axhline(0, color="#333333", linewidth=0.8)
    bottom.set_ylabel(label(diff_axis, lang), fontsize=9)
    bottom.set_xlabel(label("axis_year", lang))
    bottom.yaxis.set_major_formatter(_thousands())
    _year_ticks(bottom, years)
    bottom.legend(handles=[Patch(**more), Patch(**less)], frameon=False, fontsize=8, loc="best")
    return fig


def population_pyramid(population: pd.DataFrame, year: int, lang: Lang, footer: str) -> Figure:
    """Men left, women right, by age band, stacked outward from capable to complete loss of ability.

    Input: population.csv (``year, county, sex, age_band, ability_level, people``), one year drawn.
    """
    pop = population[population["year"] == year]
    table = pop.pivot_table(
        index="age_band", columns=["sex", "ability_level"], values="people", aggfunc="sum", fill_value=0.0
    )
    bands = sorted(pop["age_band"].unique(), key=lambda b: int(str(b).split("-")[0].rstrip("+")))
    table = table.reindex(bands)
    fig, (ax,) = _figure(footer)
    # capable = light grey (the bulk, kept quiet), then darker with each level of lost ability
    colors = [to_rgb("#d9d9d9"), *[_shade_at(p) for p in (0.78, 0.52, 0.3, 0.05)]]
    y = np.arange(len(bands))
    for sign, sex in ((-1, "M"), (1, "F")):
        left = np.zeros(len(bands))
        for i, level in enumerate(ABILITY_LEVELS):
            values = (
                table[(sex, level)].to_numpy(float) if (sex, level) in table.columns else np.zeros(len(bands))
            )
            ax.barh(
                y,
                sign * values,
                left=sign * left,
                color=colors[i],
                hatch=HATCHES[i],
                hatchcolor=_hatch_color(colors[i]),
                edgecolor="white",
                linewidth=0.4,
                height=0.8,
                label=ability_label(level, lang) if sex == "M" else None,
            )
            left = left + values
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(y, bands)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_number(abs(v))))
    limit = float(np.abs(ax.get_xlim()).max())
    ax.set_xlim(-limit, limit)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.grid(axis="y", visible=False)
    ax.text(0.02, 0.97, label("sex_M", lang), transform=ax.transAxes, fontsize=11, va="top")
    ax.text(0.98, 0.97, label("sex_F", lang), transform=ax.transAxes, fontsize=11, va="top", ha="right")
    when = stock_when(year, int(population["year"].min()), lang)
    ax.set_title(label("title_pyramid", lang, when=when), fontsize=13, loc="left")
    ax.set_xlabel(label("axis_people", lang))
    ax.set_ylabel(label("axis_age_band", lang))
    _legend_below(ax, ncols=5)
    return fig


def fan_chart(
    frame: pd.DataFrame, lang: Lang, footer: str, what: str, ylabel: str, of_runs: bool = False
) -> Figure:
    """Central line and 90% band from ``year, p05, p50, p95`` (replications or parameter draws).

    ``of_runs``: the band is the spread of a sweep's runs (design points the user chose, e.g. a grid
    of standards), labelled as their 5th–95th percentile: calling it a 90% interval would read as
    a probability the design does not have."""
    rows = frame.sort_values("year")
    fig, (ax,) = _figure(footer)
    ax.fill_between(
        rows["year"],
        rows["p05"],
        rows["p95"],
        color=_shade_at(0.75),
        alpha=0.55,
        linewidth=0,
        label=label("legend_band_runs" if of_runs else "legend_band90", lang),
    )
    ax.plot(rows["year"], rows["p05"], color=_shade_at(0.45), linewidth=0.8, linestyle=":")
    ax.plot(rows["year"], rows["p95"], color=_shade_at(0.45), linewidth=0.8, linestyle=":")
    ax.plot(
        rows["year"], rows["p50"], color=_shade_at(0.1), linewidth=2.2, label=label("legend_median", lang)
    )
    ax.set_title(
        label("title_fan_runs" if of_runs else "title_fan", lang, what=what), fontsize=13, loc="left"
    )
    ax.set_xlabel(label("axis_year", lang))
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(_thousands())
    _year_ticks(ax, rows["year"].tolist())
    _legend_below(ax)
    return fig


#: Columns of the coverage frames (issue 4 writes coverage.csv; optional ``county`` is summed over).
COVERAGE_COLUMNS = ("year", "setting", "people")
BEDS_COLUMNS = ("year", "beds", "occupied", "waiting")


def coverage_by_setting(coverage: pd.DataFrame, lang: Lang, footer: str) -> Figure:
    """People needing care by the setting that serves them, stacked per year; ``unserved`` on top.

    Input: ``year, setting, people`` (settings as in labels.CARE_SETTINGS), optionally by county.
    """
    table = coverage.pivot_table(
        index="year", columns="setting", values="people", aggfunc="sum", fill_value=0.0
    )
    settings = ("family", "family_care", "home_services", "family_bed", "day_care", "institution")
    known = [s for s in settings if s in table]
    order = known + [s for s in table.columns if s not in known and s != "unserved"]
    fig, (ax,) = _figure(footer)
    series = [(setting_label(s, lang), table[s].to_numpy(float)) for s in order]
    colors = shades(len(order)) if order else []
    if "unserved" in table:
        series.append((setting_label("unserved", lang), table["unserved"].to_numpy(float)))
        colors = [*colors, (0.93, 0.93, 0.93)]
    _stacked_bars(ax, table.index.tolist(), series, colors)
    ax.set_title(label("title_coverage", lang), fontsize=13, loc="left")
    ax.set_xlabel(label("axis_year", lang))
    ax.set_ylabel(label("axis_people", lang))
    _legend_below(ax, ncols=3)
    return fig


def beds_occupancy_waits(beds: pd.DataFrame, lang: Lang, footer: str) -> Figure:
    """Beds and occupied beds (bars), occupancy (line, right axis) and people waiting (lower panel).

    Input: ``year, beds, occupied, waiting``, optionally by county (summed).
    """
    table = beds.groupby("year")[["beds", "occupied", "waiting"]].sum().sort_index()
    years = table.index.to_numpy()
    occupancy = 100 * table["occupied"] / table["beds"].where(table["beds"] > 0)
    fig, (top, bottom) = _figure(footer, nrows=2, height_ratios=(2, 1))
    light, dark = _shade_at(0.85), _shade_at(0.3)
    top.bar(
        years - 0.19,
        table["beds"],
        width=0.38,
        color=light,
        hatch="///",
        hatchcolor="#222222",
        edgecolor="white",
        label=label("legend_beds", lang),
    )
    top.bar(years + 0.19, table["occupied"], width=0.38, color=dark, label=label("legend_occupied", lang))
    top.set_ylabel(label("axis_beds", lang))
    top.yaxis.set_major_formatter(_thousands())
    right = top.twinx()
    right.plot(
        years, occupancy, color="black", marker="o", linewidth=1.6, label=label("legend_occupancy", lang)
    )
    right.set_ylim(0, 105)
    right.set_ylabel(label("axis_occupancy", lang))
    right.spines[["top"]].set_visible(False)
    handles = top.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    top.legend(handles[0] + more[0], handles[1] + more[1], frameon=False, fontsize=9, loc="upper left")
    top.set_title(label("title_beds", lang), fontsize=13, loc="left")
    bottom.plot(years, table["waiting"], color=_shade_at(0.1), marker="s", linewidth=1.8)
    bottom.set_ylabel(label("axis_waiting", lang), fontsize=9)
    bottom.set_xlabel(label("axis_year", lang))
    bottom.set_ylim(bottom=0)
    bottom.yaxis.set_major_formatter(_thousands())
    _year_ticks(bottom, years)
    return fig


def waterfall(
    diffs: pd.DataFrame,
    lang: Lang,
    footer: str,
    names: Mapping[str, tuple[str, str]] | None = None,
    title: str = "title_waterfall",
) -> Figure:
    """B − A over the horizon, line item by line item, ending on the total (``line_item,
    b_minus_a_wan`` as report.data.line_item_difference gives it). Each bar starts where the last
    ended, so the bars add up to the total bar; increases solid, decreases hatched (greyscale-safe)."""
    rows = diffs[diffs["b_minus_a_wan"].abs() > 1e-9]
    values = rows["b_minus_a_wan"].to_numpy(float)
    items = [line_item_label(i, names or {}, lang) for i in rows["line_item"]]
    fig, (ax,) = _figure(footer)
    dark, light = _shade_at(0.1), _shade_at(0.85)
    start = 0.0
    for x, v in enumerate(values):
        up = v >= 0
        ax.bar(
            x,
            v,
            bottom=start,
            width=0.7,
            facecolor=dark if up else light,
            hatch="" if up else "///",
            edgecolor="white" if up else "#222222",
            linewidth=0.4,
        )
        ax.text(x, start + v, fmt_number(v, 1), ha="center", va="bottom" if up else "top", fontsize=8)
        start += v
    total = float(values.sum())
    x_total = len(items)
    ax.bar(x_total, total, width=0.7, facecolor=_shade_at(0.45), edgecolor="#222222", linewidth=0.8)
    ax.text(
        x_total, total, fmt_number(total, 1), ha="center", va="bottom" if total >= 0 else "top", fontsize=9
    )
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xticks(
        range(x_total + 1), [_wrap(t, 12) for t in [*items, label("legend_total", lang)]], fontsize=8
    )
    ax.set_ylabel(label("axis_diff_wan", lang))
    ax.yaxis.set_major_formatter(_thousands())
    ax.set_title(label(title, lang), fontsize=13, loc="left")
    _legend_below(
        ax,
        handles=[
            Patch(facecolor=dark, label=label("legend_increase", lang)),
            Patch(facecolor=light, hatch="///", edgecolor="#222222", label=label("legend_decrease", lang)),
        ],
    )
    return fig
