"""The report's XLSX workbook: its sheets (numbers as numbers, with 万元 formats, so finance staff
can add them up; every parameter with its source or assumption label) and the writer."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from agingsim.errors import AgingsimError
from agingsim.fiscal.ledger import WAN
from agingsim.report.data import (
    Results,
    compare_rows,
    headline_rows,
    interval_measures,
    replications,
    scorecard_headers,
    scorecard_rows,
)
from agingsim.report.labels import (
    Lang,
    ability_label,
    family_label,
    funding_label,
    label,
    line_item_label,
    measure_label,
    payer_label,
    provenance_label,
    setting_label,
)
from agingsim.report.notes_zh import assumption_note

FMT_WAN = "#,##0.00"
FMT_CNY = "#,##0.00"
FMT_PEOPLE = "#,##0"
FMT_SHARE = "0.0%"
EXCEL_MAX_ROWS = 1_048_575


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
        if (n := replications(results)) is not None:  # say whose figures these are
            rows.append([label("h_replication0", lang, n=n, sheet=L("sheet_interval")), None, None, None])
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
        interval = interval_measures(results, lang)
        if interval:
            sheets.append(
                Sheet(
                    L("sheet_interval"),
                    [
                        L("col_measure"),
                        *(L(f"col_{c}") for c in ("a_mean", "b_mean", "diff_p05", "diff_p50", "diff_p95")),
                        *(L(f"col_rel_{p}") for p in ("p05", "p50", "p95")),
                        L("col_verdict"),
                    ],
                    [
                        [words, *(None if math.isnan(v) else v for v in values), verdict]
                        for _, words, values, verdict in interval
                    ],
                    [None, *[FMT_WAN] * 5, *[FMT_SHARE] * 3, None],
                    [34, 18, 18, 16, 16, 16, 14, 14, 14, 16],
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
    for name, sheet_key in CODED_SHEETS.items():
        table = results.frame(name) if name == "coverage.csv" or results.kind == "run" else None
        if table is not None:
            sheets.append(_coded_sheet(results, table, sheet_key, lang))
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


#: Output tables shown as they are, one row per CSV row, their headers and codes in the page's
#: language (a Chinese workbook had showed "family_care", "yicheng" and "False" under English headers)
CODED_SHEETS = {
    "coverage.csv": "sheet_coverage",
    "lottery.csv": "sheet_lottery",
    "rationing.csv": "sheet_rationing",
}
#: column → (header label, kind of value, Excel format, width); kinds: int, county, setting,
#: payer, line_item, yes/no, number
CODED_COLUMNS: dict[str, tuple[str, str, str | None, int]] = {
    "year": ("col_year", "int", None, 7),
    "month": ("col_month", "int", None, 6),
    "county": ("col_county", "county", None, 12),
    "setting": ("col_setting", "setting", None, 14),
    "people": ("col_need_monthly", "number", "#,##0.0", 16),
    "people_all": ("col_all_monthly", "number", "#,##0.0", 16),
    "payer_level": ("col_payer_level", "payer", None, 9),
    "retained_cny": ("col_lottery_retained", "number", FMT_CNY, 18),
    "spent_on_elderly_cny": ("col_lottery_spent", "number", FMT_CNY, 18),
    "share": ("col_lottery_share", "number", FMT_SHARE, 12),
    "required_min_share": ("col_lottery_required", "number", FMT_SHARE, 12),
    "meets_rule": ("col_met", "yes_no", None, 9),
    "overspent": ("col_lottery_overspent", "yes_no", None, 9),
    "line_item": ("col_line_item", "line_item", None, 28),
    "people_waiting": ("col_people_waiting", "number", "#,##0.0", 14),
    "unpaid_cny": ("col_unpaid_cny", "number", FMT_CNY, 16),
}


def _coded_sheet(results: Results, table: pd.DataFrame, sheet_key: str, lang: Lang) -> Sheet:
    """One of CODED_SHEETS: every column of the CSV in its order, a known one with its label and its
    codes as words (a column not in CODED_COLUMNS shows under its own name, never dropped)."""
    counties = results.summary.get("region", {}).get("counties", {})
    names = results.line_item_names
    yes, no = label("yes", lang), label("no", lang)

    def value(kind: str, v: Any) -> Any:
        if kind == "int":
            return int(v)
        if kind == "county":
            return counties.get(v, v) if lang == "zh" else v
        if kind == "setting":
            return setting_label(str(v), lang)
        if kind == "payer":
            return payer_label(str(v), lang)
        if kind == "line_item":
            return line_item_label(str(v), names, lang)
        if kind == "yes_no":
            return yes if str(v).strip().lower() in ("true", "1") else no
        return v

    specs = [CODED_COLUMNS.get(c, (c, "raw", None, 14)) for c in table.columns]
    headers = [label(key, lang) if kind != "raw" else key for key, kind, _, _ in specs]
    kinds = [kind for _, kind, _, _ in specs]
    rows = ([value(k, v) for k, v in zip(kinds, r, strict=True)] for r in table.itertuples(index=False))
    return Sheet(label(sheet_key, lang), headers, rows, [f for *_, f, _ in specs], [w for *_, w in specs])


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


def assumption_value(text: Any) -> Any:
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
            assumption_value(r.value),
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
