"""Turn an output folder into briefing material: PNG/SVG charts, an XLSX workbook and a PPTX deck
(the deck itself is :mod:`agingsim.report.deck`).

Numbers go into the workbook as numbers (with 万元 formats), not as text, so finance staff can add them
up; every parameter goes in with its source or assumption label, so "where does this come from?" has
an answer in the file itself. The report folder is written atomically, like a run's.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from agingsim import __version__
from agingsim.errors import AgingsimError
from agingsim.fiscal.ledger import WAN
from agingsim.report import charts
from agingsim.report.data import (
    LINE_ITEMS_CSV,
    Results,
    compare_rows,
    headline_rows,
    scorecard_headers,
    scorecard_rows,
)
from agingsim.report.labels import (
    BAND_AXES,
    BAND_MEASURES,
    Lang,
    ability_label,
    column_label,
    family_label,
    funding_label,
    label,
    line_item_label,
    measure_label,
    payer_label,
    provenance_label,
)
from agingsim.report.notes_zh import assumption_note
from agingsim.results.output import write_outputs

FORMATS: tuple[str, ...] = ("png", "svg", "xlsx", "pptx")
PNG_DPI = 300
WORKBOOK = "report.xlsx"
DECK = "briefing.pptx"
MANIFEST = "report.json"
FMT_WAN = "#,##0.00"
FMT_CNY = "#,##0.00"
FMT_PEOPLE = "#,##0"
EXCEL_MAX_ROWS = 1_048_575

Writer = Callable[[Path], None]


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


# ============================================================================ charts
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
                if measure in set(table["measure"]):
                    draw = partial(
                        charts.compare_costs, table, lang, footer, names=names, measure=measure,
                        title=title, axis=axis, diff_axis=diff, more="legend_more", less="legend_less",
                    )  # fmt: skip
                    rows = table[table["measure"] == measure]
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
        out.append(Chart("population_pyramid", label("title_pyramid", lang, year=year), draw, data=drawn))
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


# ============================================================================ workbook
@dataclass(frozen=True)
class Num:
    """A number with its own Excel format, for columns that mix units (the summary sheet)."""

    value: float
    fmt: str


@dataclass
class Sheet:
    """A sheet: localized headers, rows of values, an Excel number format per column (or None)."""

    name: str
    headers: list[str]
    rows: Iterable[Sequence[Any]]
    formats: list[str | None]
    widths: list[float]


def workbook_sheets(results: Results, lang: Lang) -> list[Sheet]:
    """The workbook's sheets in order; exposed so tests and the app can check what goes in."""
    L = lambda key: label(key, lang)  # noqa: E731
    sheets: list[Sheet] = []
    if results.kind == "compare":
        rows = [[L("h_scenario"), results.scenario_name(lang, 0), results.scenario_name(lang, 1), None]]
        rows += [[m, a, b, d] for m, a, b, d in compare_rows(results, lang)]
        sheets.append(
            Sheet(
                L("sheet_summary"),
                [L("col_measure"), L("col_a"), L("col_b"), L("col_b_minus_a")],
                rows,
                [None, FMT_WAN, FMT_WAN, FMT_WAN],
                [34, 22, 22, 18],
            )
        )
        table = results.frame("comparison.csv")
        assert table is not None
        rows = [
            [int(r.year), measure_label(r.measure, lang), r.a, r.b, r.b_minus_a] for r in table.itertuples()
        ]
        sheets.append(
            Sheet(
                L("sheet_comparison"),
                [L("col_year"), L("col_measure"), L("col_a"), L("col_b"), L("col_b_minus_a")],
                rows,
                [None, None, FMT_WAN, FMT_WAN, FMT_WAN],
                [8, 34, 18, 18, 18],
            )
        )
    else:
        rows = []
        for name, value, unit in headline_rows(results, lang):
            fmt = FMT_WAN if unit == L("unit_wan") else FMT_PEOPLE if unit == L("unit_people") else None
            rows.append([name, Num(value, fmt) if fmt else value, unit])
        sheets.append(
            Sheet(
                L("sheet_summary"),
                [L("col_item"), L("col_value"), L("col_unit")],
                rows,
                [None, None, None],
                [40, 44, 12],
            )
        )
        ledger = results.frame("ledger.csv")
        if ledger is not None:
            sheets.append(_ledger_sheet(results, ledger, lang))
            for key, table in (
                ("sheet_by_payer", results.by_payer()),
                ("sheet_by_line_item", results.by_line_item()),
            ):
                if table is None:
                    continue
                cols = [c for c in table.columns if c != "year"]
                if key == "sheet_by_payer":
                    heads = [payer_label(c, lang) if c != "total" else L("legend_total") for c in cols]
                else:
                    heads = [
                        line_item_label(c, results.line_item_names, lang)
                        if c != "total"
                        else L("legend_total")
                        for c in cols
                    ]
                sheets.append(
                    Sheet(
                        f"{L(key)}（{L('unit_wan')}）" if lang == "zh" else f"{L(key)} ({L('unit_wan')})",
                        [L("col_year"), *heads],
                        (
                            [int(r[0]), *map(float, r[1:])]
                            for r in table[["year", *cols]].itertuples(index=False)
                        ),
                        [None, *[FMT_WAN] * len(cols)],
                        [8, *[max(14, min(30, 2 + 1.6 * len(h))) for h in heads]],
                    )
                )
        sheets.append(_population_sheet(results, lang))
        from agingsim.report.who import who_sheet  # issue 19: spending by group (when recorded)

        if (who := who_sheet(results, lang)) is not None:
            sheets.append(who)
        assumptions = results.frame("assumptions.csv")
        if assumptions is not None:
            sheets.append(_assumptions_sheet(results, assumptions, lang))
    coverage = results.frame("coverage.csv")
    if coverage is not None:
        sheets.append(
            Sheet(
                L("sheet_coverage"),
                list(coverage.columns),
                coverage.itertuples(index=False),
                [None] * len(coverage.columns),
                [14] * len(coverage.columns),
            )
        )
    for name in ("lottery.csv", "rationing.csv"):
        table = results.frame(name) if results.kind == "run" else None
        if table is not None:
            sheets.append(
                Sheet(
                    name.removesuffix(".csv"),
                    list(table.columns),
                    table.itertuples(index=False),
                    [None] * len(table.columns),
                    [14] * len(table.columns),
                )
            )
    scorecard = scorecard_rows(results, lang)
    if scorecard:
        sheets.append(
            Sheet(
                L("sheet_scorecard"),
                scorecard_headers(lang),
                scorecard,
                [None, None, None, "#,##0.00", "#,##0.00", None, None],
                [40, 30, 8, 14, 14, 14, 12],
            )
        )
    return sheets


def _ledger_sheet(results: Results, ledger: pd.DataFrame, lang: Lang) -> Sheet:
    if len(ledger) > EXCEL_MAX_ROWS:
        raise AgingsimError(
            f"{results.path / 'ledger.csv'}: {len(ledger):,} rows, more than an Excel sheet holds; "
            "use --formats png,svg,pptx, or run with fewer years"
        )
    L = lambda key: label(key, lang)  # noqa: E731
    counties = results.summary.get("region", {}).get("counties", {})
    names = results.line_item_names
    cached: dict[tuple[str, str], str] = {}

    def cached_label(fn: Callable[[str, Lang], str], code: str) -> str:
        key = (fn.__name__, code)
        if key not in cached:
            cached[key] = fn(code, lang)
        return cached[key]

    def rows() -> Iterable[list[Any]]:
        for r in ledger.itertuples(index=False):
            yield [
                int(r.year),
                int(r.month),
                line_item_label(r.line_item, names, lang),
                r.line_item,
                r.rule,
                cached_label(family_label, r.scheme_family),
                cached_label(payer_label, r.payer_level),
                getattr(r, "payer_region", ""),
                counties.get(r.county, r.county) if lang == "zh" else r.county,
                cached_label(funding_label, getattr(r, "funding", "budget")),
                float(r.amount_cny),
                float(r.amount_cny) / WAN,
                float(getattr(r, "beneficiaries", 0.0)),
            ]

    headers = [
        L(k)
        for k in (
            "col_year",
            "col_month",
            "col_line_item",
            "col_line_item_id",
            "col_rule",
            "col_scheme_family",
            "col_payer_level",
            "col_payer_region",
            "col_county",
            "col_funding",
            "col_amount_cny",
            "col_amount_wan",
            "col_beneficiaries",
        )
    ]
    formats = [None] * 10 + [FMT_CNY, FMT_WAN, "#,##0.0"]
    widths = [7, 6, 28, 22, 24, 18, 9, 12, 12, 12, 16, 14, 12]
    return Sheet(L("sheet_ledger"), headers, rows(), formats, widths)


def _population_sheet(results: Results, lang: Lang) -> Sheet:
    pop = results.frame("population.csv")
    assert pop is not None
    counties = results.summary.get("region", {}).get("counties", {})
    L = lambda key: label(key, lang)  # noqa: E731
    sexes = {"M": L("sex_M"), "F": L("sex_F")}
    rows = (
        [
            int(r.year),
            counties.get(r.county, r.county) if lang == "zh" else r.county,
            sexes.get(r.sex, r.sex),
            r.age_band,
            ability_label(r.ability_level, lang),
            float(r.people),
        ]
        for r in pop.itertuples(index=False)
    )
    headers = [
        L(k) for k in ("col_year", "col_county", "col_sex", "col_age_band", "col_ability_level", "col_people")
    ]
    return Sheet(L("sheet_population"), headers, rows, [None] * 5 + [FMT_PEOPLE], [7, 14, 7, 10, 14, 14])


def _assumption_value(text: Any) -> Any:
    """assumptions.csv stores values as JSON: numbers back to numbers, strings unquoted."""
    if not isinstance(text, str):
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return text
    return value


def _assumptions_sheet(results: Results, table: pd.DataFrame, lang: Lang) -> Sheet:
    L = lambda key: label(key, lang)  # noqa: E731
    rows = (
        [
            r.file,
            r.key,
            results.pretty_key(r.key, lang),
            _assumption_value(r.value),
            provenance_label(r.provenance, lang),
            assumption_note(str(r.text), r.provenance, lang),
        ]
        for r in table.itertuples(index=False)
    )
    headers = [L("col_file"), L("col_key"), L("col_item"), L("col_value"), L("col_provenance"), L("col_text")]
    return Sheet(
        L("sheet_assumptions"),
        headers,
        rows,
        [None, None, None, "General", None, None],
        [34, 40, 40, 12, 10, 90],
    )


def write_workbook(sheets: list[Sheet], path: Path) -> None:
    """XLSX with a bold, frozen header row and number formats on every numeric column."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    for sheet in sheets:
        ws = wb.create_sheet(_sheet_title(sheet.name))
        ws.freeze_panes = "A2"
        for i, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        header = []
        for h in sheet.headers:
            cell = WriteOnlyCell(ws, value=h)
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            header.append(cell)
        ws.append(header)
        formats = list(sheet.formats)
        for row in sheet.rows:
            cells: list[Any] = []
            for i, item in enumerate(row):
                fmt = item.fmt if isinstance(item, Num) else formats[i] if i < len(formats) else None
                value = _excel_value(item.value if isinstance(item, Num) else item)
                if fmt and isinstance(value, int | float) and not isinstance(value, bool):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = fmt
                    cells.append(cell)
                else:
                    cells.append(value)  # plain values are much faster to write than styled cells
            ws.append(cells)
    wb.save(path)


def _sheet_title(name: str) -> str:
    for bad in "[]:*?/\\":
        name = name.replace(bad, "_")
    return name[:31]


def _excel_value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return None if isinstance(value, float) and value != value else value  # NaN -> empty cell
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


# ============================================================================ the report folder
def parse_formats(text: str) -> tuple[str, ...]:
    """``png,svg`` -> ("png", "svg"); an unknown format is an error naming the known ones."""
    wanted = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise ValueError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}; choose from {','.join(FORMATS)}"
        )
    return wanted


def report_writers(
    results: Results, lang: Lang, formats: Sequence[str], geography: Any = None
) -> tuple[dict[str, Writer], list[str]]:
    """File name -> writer for the report folder, and the notes on what was skipped. ``geography``
    (the run's, for the deck's service-circle map): by default the scenario file's."""
    chart_list, notes = build_charts(results, lang)
    writers = chart_writers(chart_list, formats)
    if "xlsx" in formats:
        writers[WORKBOOK] = lambda path: write_workbook(workbook_sheets(results, lang), path)
    if "pptx" in formats:
        from agingsim.report.deck import FROM_FOLDER, write_deck  # python-pptx only for a deck

        geo = FROM_FOLDER if geography is None else geography
        writers[DECK] = lambda path: write_deck(results, chart_list, lang, path, geo)
    manifest = {
        "source": str(results.path.resolve()),
        "kind": results.kind,
        "lang": lang,
        "formats": list(formats),
        "files": sorted([*writers, MANIFEST]),
        "skipped": notes,
        "version": __version__,
    }
    writers[MANIFEST] = lambda path: path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return writers, notes


def chart_writers(chart_list: Sequence[Chart], formats: Sequence[str]) -> dict[str, Writer]:
    """``<chart id>.png`` / ``.svg`` writers for the formats asked for, and with either the
    chart's table as ``<chart id>.csv``."""
    writers: dict[str, Writer] = {}
    for chart in chart_list:
        if chart.data is not None and ("png" in formats or "svg" in formats):
            writers[f"{chart.id}.csv"] = _bytes_writer(chart.csv)
        if "png" in formats:
            writers[f"{chart.id}.png"] = _bytes_writer(chart.png)
        if "svg" in formats:
            writers[f"{chart.id}.svg"] = _bytes_writer(chart.svg)
    return writers


def _bytes_writer(render: Callable[[], bytes]) -> Writer:
    def write(path: Path) -> None:
        path.write_bytes(render())

    return write


def write_report_folder(out_dir: Path, writers: dict[str, Writer], source: Path) -> Path:
    """All files or none (results/output.py); an existing folder is replaced only if it is an
    earlier report (it has report.json), and never the results folder itself."""
    return write_outputs(out_dir, writers, MANIFEST, protect=source, what="an agingsim report folder")


def make_report(
    results: Results,
    out_dir: Path,
    lang: Lang = "zh",
    formats: Sequence[str] = FORMATS,
    geography: Any = None,
) -> tuple[Path, list[str], list[str]]:
    """Write the report folder; returns it, the files written and the notes on skipped charts."""
    writers, notes = report_writers(results, lang, formats, geography)
    path = write_report_folder(out_dir, writers, results.path)
    return path, sorted(writers), notes
