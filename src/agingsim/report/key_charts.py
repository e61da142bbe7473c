"""The key charts of an output folder: which ones its files support, each a :class:`Chart` that
knows its title, how to draw itself (:mod:`agingsim.report.charts`) and the table behind it.

Shared by the report folder (exports.py), the deck, the sweep report and the app's downloads.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial

import pandas as pd
from matplotlib.figure import Figure

from agingsim.report import charts
from agingsim.report.data import LINE_ITEMS_CSV, Results
from agingsim.report.labels import BAND_AXES, BAND_MEASURES, Lang, column_label, label, stock_when

PNG_DPI = 300

#: A CSV for Excel on Chinese Windows: UTF-8 with a byte-order mark, as the app's CSV downloads.
CSV_BOM = "\ufeff"


class Chart:
    """One chart of the report: a file stem, its title (for the slide), how to draw it and the
    table it is drawn from (``<id>.csv`` beside the picture, so every number on it can be checked).

    The figure is drawn on first use, so a workbook-only report draws nothing. Without ``data``,
    the table is the draw function's first argument when that is a table (every chart of
    :mod:`agingsim.report.charts` takes its table first).
    """

    def __init__(
        self, id: str, title: str, draw: Callable[[], Figure], data: pd.DataFrame | None = None
    ) -> None:
        self.id, self.title, self._draw = id, title, draw
        if data is None and isinstance(draw, partial) and draw.args:
            first = draw.args[0]
            data = first if isinstance(first, pd.DataFrame) else None
        self.data = data
        self._figure: Figure | None = None
        self._png: bytes | None = None

    def csv(self, chinese_headers: bool = False) -> bytes:
        """The chart's table as CSV (UTF-8 with a BOM), optionally with Chinese headers (the app's
        option); empty if the chart has none."""
        if self.data is None:
            return b""
        table = self.data.rename(columns=partial(column_label, lang="zh")) if chinese_headers else self.data
        return (CSV_BOM + table.to_csv(index=False, lineterminator="\n")).encode("utf-8")

    @property
    def figure(self) -> Figure:
        if self._figure is None:
            self._figure = self._draw()
        return self._figure

    def png(self) -> bytes:
        """PNG at 300 dpi, rendered once and shared by the PNG file and the deck."""
        if self._png is None:
            buf = io.BytesIO()
            self.figure.savefig(buf, format="png", dpi=PNG_DPI, metadata={"Software": None})
            self._png = buf.getvalue()
        return self._png

    def svg(self) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()


def build_charts(results: Results, lang: Lang) -> tuple[list[Chart], list[str]]:
    """The key charts this folder supports (drawn on use), and a note for each it cannot draw."""
    footer = results.footer(lang)
    out: list[Chart] = []
    notes: list[str] = []
    if results.kind == "compare":
        table = results.frame("comparison.csv")
        assert table is not None
        names = (results.scenario_name(lang, 0), results.scenario_name(lang, 1))
        if "cost_total_wan" in set(table["measure"]):
            draw = partial(charts.compare_costs, table, lang, footer, names=names)
            rows = table[table["measure"] == "cost_total_wan"]
            out.append(Chart("compare_cost_total", label("title_compare", lang), draw, data=rows))
        else:
            notes.append("comparison.csv has no cost rows (neither scenario has a [policy]): no A vs B chart")
        if "needing_care_served" in set(table["measure"]):  # the behaviour model: who gets care
            for measure, title, axis, diff in (
                ("needing_care_served", "title_compare_served", "axis_people", "axis_diff_people"),
                (
                    "cost_per_person_in_need_served_cny_per_year",
                    "title_compare_cost_per_served",
                    "axis_cny_per_person_year",
                    "axis_diff_cny",
                ),
            ):
                rows = table[table["measure"] == measure]
                lacking = [arm.upper() for arm in ("a", "b") if len(rows) and rows[arm].isna().all()]
                if lacking:  # that arm names no behaviour model: nothing to set against the other
                    notes.append(
                        f"{' and '.join(lacking)} has no behaviour model (comparison.csv leaves its "
                        f"{measure} empty): A vs B chart of {measure} skipped"
                    )
                elif len(rows):
                    draw = partial(
                        charts.compare_costs, table, lang, footer, names=names, measure=measure,
                        title=title, axis=axis, diff_axis=diff, more="legend_more", less="legend_less",
                    )  # fmt: skip
                    out.append(Chart(f"compare_{measure}", label(title, lang), draw, data=rows))
        items = results.frame(LINE_ITEMS_CSV)
        if items is not None and not items.empty and items["b_minus_a_wan"].abs().sum() > 0:
            draw = partial(charts.waterfall, items, lang, footer, names=results.line_item_names)
            out.append(Chart("compare_waterfall", label("title_waterfall", lang), draw))
    else:
        by_payer, by_line = results.by_payer(), results.by_line_item()
        if by_payer is not None and by_line is not None:
            draw = partial(charts.cost_by_payer, by_payer, lang, footer)
            out.append(Chart("cost_by_payer", label("title_cost_by_payer", lang), draw))
            draw = partial(charts.cost_by_line_item, by_line, lang, footer, names=results.line_item_names)
            out.append(Chart("cost_by_line_item", label("title_cost_by_line_item", lang), draw))
        else:
            notes.append("no ledger (the scenario has no [policy]): cost charts skipped")
        pop = results.frame("population.csv")
        assert pop is not None
        year = int(pop["year"].max())
        draw = partial(charts.population_pyramid, pop, year, lang, footer)
        drawn = pop[pop["year"] == year]
        when = stock_when(year, int(pop["year"].min()), lang)
        out.append(Chart("population_pyramid", label("title_pyramid", lang, when=when), draw, data=drawn))
        out += _interval_charts(results, lang, footer)
    out += _coverage_charts(results, lang, footer, notes)
    return out, notes


def _interval_charts(results: Results, lang: Lang, footer: str) -> list[Chart]:
    """Median and 90% band by year where the run has intervals (``agingsim run --replications N``)."""
    table = results.frame("intervals.csv")
    if table is None:
        return []
    from agingsim.uncertainty.intervals import BY_YEAR, band

    out = []
    for measure, (zh, en) in BAND_MEASURES.items():
        rows = band(table, BY_YEAR, measure)
        if rows.empty or not rows[["p05", "p50", "p95"]].abs().to_numpy().any():
            continue
        what = zh if lang == "zh" else en
        draw = partial(charts.fan_chart, rows, lang, footer, what, label(BAND_AXES[measure], lang))
        out.append(Chart(f"band_{measure}", label("title_fan", lang, what=what), draw))
    return out


def _coverage_charts(results: Results, lang: Lang, footer: str, notes: list[str]) -> list[Chart]:
    coverage = results.frame("coverage.csv")
    if coverage is None:
        if results.kind != "compare":
            notes.append(
                "no coverage.csv (the scenario names no behaviour model): "
                "coverage-by-setting and beds/occupancy/waits charts skipped"
            )
        return []
    out = []
    if set(charts.COVERAGE_COLUMNS) <= set(coverage.columns):
        draw = partial(charts.coverage_by_setting, coverage, lang, footer)
        out.append(Chart("coverage_by_setting", label("title_coverage", lang), draw))
    else:
        notes.append(f"coverage.csv lacks {', '.join(charts.COVERAGE_COLUMNS)}: coverage chart skipped")
    capacity = results.frame("capacity.csv")
    if capacity is not None and set(charts.BEDS_COLUMNS) <= set(capacity.columns):
        draw = partial(charts.beds_occupancy_waits, capacity, lang, footer)
        out.append(Chart("beds_occupancy_waits", label("title_beds", lang), draw))
    else:
        notes.append(
            f"no capacity.csv with {', '.join(charts.BEDS_COLUMNS)}: beds/occupancy/waits chart skipped"
        )
    return out
