"""Read and check a filled region workbook, cell by cell.

Why a separate reader: every problem must name the sheet, the spreadsheet row, the column letter and
its key, and what is wrong (``FILE: SHEET row R, column C (key): PROBLEM``), all problems at once, before
anything is written. The result holds plain Python values with each figure's source.
"""

from __future__ import annotations

import datetime
import io
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.region.workbook import (
    ASSUMPTION_PREFIXES,
    BEDS,
    COUNTIES,
    ECON,
    FIELD_COLUMNS,
    FIELD_HEADER_ROWS,
    FIRST_DATA_ROW,
    HEADER_ROWS,
    POPULATION,
    REGION,
    SEX_INPUT,
    SHEETS,
    Column,
    Sheet,
)

#: More rows than any county's table needs; a sheet beyond this is refused, not read for minutes.
MAX_ROWS = 5000
#: Blank rows after which a sheet is taken to have ended.
BLANK_RUN = 1000
ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class Label:
    """A figure's provenance as the user wrote it: ``kind`` is ``source`` or ``assumption``."""

    kind: str
    text: str

    @classmethod
    def parse(cls, text: str) -> Label:
        for prefix in ASSUMPTION_PREFIXES:
            if text.lower().startswith(prefix):
                return cls("assumption", text[len(prefix) :].strip() or text)
        return cls("source", text)

    def csv_text(self) -> str:
        return self.text if self.kind == "source" else f"assumption: {self.text}"


@dataclass
class Record:
    """One data row of a table sheet (or one field of a fields sheet)."""

    row: int
    values: dict[str, Any]
    label: Label | None = None
    #: key → 1-based column number in its sheet
    columns: dict[str, int] = field(default_factory=dict)

    def col(self, key: str) -> int:
        return self.columns.get(key, 1)


@dataclass
class FilledWorkbook:
    """The checked content of a workbook: fields, population rows, counties and optional sheets."""

    path: str
    region: dict[str, Any] = field(default_factory=dict)
    region_labels: dict[str, Label] = field(default_factory=dict)
    population: list[Record] = field(default_factory=list)
    counties: list[Record] = field(default_factory=list)
    #: econ key → (people 60+, label), or empty when the sheet is left blank
    econ: dict[str, tuple[float, Label]] = field(default_factory=dict)
    #: beds key → (count, label, row) for the items given
    beds: dict[str, tuple[float, Label, int]] = field(default_factory=dict)


class _Errors:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[ScenarioError] = []

    def cell(self, sheet: str, row: int, col: int, key: str, problem: str) -> None:
        self.items.append(
            ScenarioError(self.path, f"{sheet} row {row}, column {get_column_letter(col)} ({key})", problem)
        )

    def sheet(self, sheet: str, where: str, problem: str) -> None:
        self.items.append(ScenarioError(self.path, f"{sheet} {where}".strip(), problem))

    def raise_if_any(self) -> None:
        if self.items:
            raise ScenarioErrors(self.items)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _number(v: Any) -> tuple[float | None, str | None]:
    """The number in a cell, or a problem: text, a date, a boolean, NaN or infinity are refused."""
    if isinstance(v, bool):
        return None, f"a number is needed, not a yes/no value (got {v!r})"
    if isinstance(v, int | float):
        x = float(v)
    elif isinstance(v, str):
        try:
            x = float(v.strip())
        except ValueError:
            return None, f"text in a number cell (got {v!r}); write the number only"
    elif isinstance(v, datetime.date | datetime.datetime | datetime.time):
        return None, f"a number is needed, not a date (got {v!s}); format the cell as a number"
    else:
        return None, f"not a number (got {v!r})"
    if not math.isfinite(x):
        return None, f"must be a finite number (got {v!r})"
    return x, None


def check_value(col: Column, v: Any) -> tuple[Any, str | None]:
    """The value of a non-blank cell for ``col``, or a problem naming the rule it breaks."""
    if col.kind in ("text", "id", "choice", "sex"):
        if not isinstance(v, str | int) or isinstance(v, bool):
            return None, f"text is needed (got {v!r})"
        s = str(v).strip()
        bad = sorted({f"U+{ord(ch):04X}" for ch in s if (ord(ch) < 32 and ch != "\t") or ord(ch) == 127})
        if bad:
            return None, f"contains control character(s) {', '.join(bad)}: retype the text"
        if col.kind == "id" and not (set(s) <= ID_CHARS):
            return None, f"use lower-case letters a-z, digits and _ only (got {s!r})"
        if col.kind == "choice" and s not in col.choices:
            return None, f"must be one of {', '.join(col.choices)} (got {s!r})"
        if col.kind == "sex":
            if s not in SEX_INPUT:
                return None, f"must be M/F or 男/女 (got {s!r})"
            return SEX_INPUT[s], None
        return s, None
    if col.kind == "date":
        if isinstance(v, datetime.datetime):
            d = v.date()
        elif isinstance(v, datetime.date):
            d = v
        elif isinstance(v, str):
            try:
                d = datetime.date.fromisoformat(v.strip())
            except ValueError:
                return None, f"a date YYYY-MM-DD is needed (got {v!r})"
        else:
            return None, f"a date YYYY-MM-DD is needed (got {v!r})"
        if not 1950 <= d.year <= 2100:
            return None, f"the year must be 1950–2100 (got {d.isoformat()})"
        return d, None
    x, problem = _number(v)
    if problem:
        return None, problem
    assert x is not None
    if col.kind == "int":
        if x != int(x):
            return None, f"a whole number is needed (got {v!r})"
        x = int(x)
    if col.lo is not None and x < col.lo:
        what = "negative" if col.lo == 0 else f"below {col.lo:g}"
        return None, f"{what}: must be ≥ {col.lo:g} (got {v!r})"
    if col.hi is not None and x > col.hi:
        return None, f"out of range: must be ≤ {col.hi:g} (got {v!r})"
    return x, None


def _open(source: str | Path | bytes, name: str):
    if isinstance(source, str | Path):
        p = Path(source)
        if not p.is_file():
            raise ScenarioError(name, "", "file not found")
        if p.suffix.lower() != ".xlsx":
            raise ScenarioError(
                name, "", f"not an Excel .xlsx workbook (got a '{p.suffix or 'no'}' file); save it as .xlsx"
            )
        data = p.read_bytes()
    else:
        data = bytes(source)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ScenarioError(name, "", "not an Excel .xlsx workbook (the file is not an Office Open XML zip)")
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign zip
        raise ScenarioError(name, "", f"not a readable .xlsx workbook ({type(exc).__name__})") from None


def _rows(ws) -> list[tuple[Any, ...]]:
    """The sheet's rows up to its last non-blank one (formatting can make a sheet look a million rows
    long; a long blank run ends the read)."""
    rows: list[tuple[Any, ...]] = []
    last = 0
    for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if any(not _blank(v) for v in row):
            if i > MAX_ROWS:
                raise ScenarioError(
                    "", f"{ws.title} row {i}", f"more than {MAX_ROWS} rows: is this the right sheet?"
                )
            last = i
        elif i - last > BLANK_RUN:
            break
        rows.append(tuple(row))
    return rows[:last]


def _label(errors: _Errors, sheet: Sheet, row: int, col: int, v: Any) -> Label | None:
    if _blank(v):
        errors.cell(
            sheet.name,
            row,
            col,
            "source",
            "empty source: every figure needs one (document, table, year) or 'assumption: reasoning'",
        )
        return None
    return Label.parse(str(v).strip())


def _check_example_row(
    errors: _Errors, sheet: Sheet, rows: list[tuple[Any, ...]], where: dict[str, int]
) -> None:
    """Row 4 is skipped on import: refuse it if it holds anything but the example (or nothing), so a
    user who deleted the example row or typed data over it does not lose a row silently."""
    raw = rows[HEADER_ROWS - 1] if len(rows) >= HEADER_ROWS else ()
    for c in sheet.columns:
        j = where.get(c.key)
        v = raw[j] if j is not None and j < len(raw) else None
        if _blank(v) or v == c.example:
            continue
        errors.cell(
            sheet.name,
            HEADER_ROWS,
            j + 1,
            c.key,
            f"row {HEADER_ROWS} is the example row and is ignored on import, but it was changed "
            f"(got {v!r}, example {c.example!r}): put data from row {FIRST_DATA_ROW} on and restore or "
            f"clear row {HEADER_ROWS}",
        )
        return


def _read_table(errors: _Errors, sheet: Sheet, rows: list[tuple[Any, ...]]) -> list[Record]:
    header = rows[1] if len(rows) > 1 else ()
    where: dict[str, int] = {}
    known = {c.key for c in sheet.columns}
    for j, v in enumerate(header):
        if _blank(v):
            continue
        k = str(v).strip()
        if k not in known:
            errors.cell(sheet.name, 2, j + 1, k, f"unknown column; expected {', '.join(sorted(known))}")
        elif k in where:
            errors.cell(
                sheet.name,
                2,
                j + 1,
                k,
                f"column appears twice (also column {get_column_letter(where[k] + 1)})",
            )
        else:
            where[k] = j
    for c in sheet.columns:
        if c.key not in where and c.required:
            errors.sheet(sheet.name, "row 2", f"missing column '{c.key}' ({c.zh} {c.en})")
    if any(c.key not in where and c.required for c in sheet.columns):
        return []
    _check_example_row(errors, sheet, rows, where)
    records = []
    for i, raw in enumerate(rows[FIRST_DATA_ROW - 1 :], start=FIRST_DATA_ROW):
        cells = {k: raw[j] if j < len(raw) else None for k, j in where.items()}
        if all(_blank(v) for v in cells.values()):
            continue
        values: dict[str, Any] = {}
        ok = True
        for c in sheet.columns:
            if c.key == "source" or c.key not in where:
                continue
            v = cells[c.key]
            if _blank(v):
                if c.required:
                    errors.cell(sheet.name, i, where[c.key] + 1, c.key, f"empty: {c.zh} {c.en} is required")
                    ok = False
                continue
            x, problem = check_value(c, v)
            if problem:
                errors.cell(sheet.name, i, where[c.key] + 1, c.key, problem)
                ok = False
            else:
                values[c.key] = x
        label = _label(errors, sheet, i, where["source"] + 1, cells["source"])
        if ok and label is not None:
            records.append(Record(i, values, label, {k: j + 1 for k, j in where.items()}))
    return records


def _read_fields(errors: _Errors, sheet: Sheet, rows: list[tuple[Any, ...]]) -> dict[str, Record]:
    kcol = ord(FIELD_COLUMNS["key"]) - ord("A")
    vcol = ord(FIELD_COLUMNS["value"]) - ord("A")
    scol = ord(FIELD_COLUMNS["source"]) - ord("A")
    found: dict[str, Record] = {}
    known = {c.key: c for c in sheet.columns}
    for i, raw in enumerate(rows[FIELD_HEADER_ROWS:], start=FIELD_HEADER_ROWS + 1):
        raw = tuple(raw) + (None,) * (scol + 1 - len(raw))
        if _blank(raw[kcol]):
            if not (_blank(raw[vcol]) and _blank(raw[scol])):
                errors.cell(sheet.name, i, kcol + 1, "key", "a value without its item code in column B")
            continue
        k = str(raw[kcol]).strip()
        if k not in known:
            errors.cell(sheet.name, i, kcol + 1, "key", f"unknown item {k!r}; expected {', '.join(known)}")
            continue
        if k in found:
            errors.cell(sheet.name, i, kcol + 1, "key", f"item {k!r} appears twice (also row {found[k].row})")
            continue
        col = known[k]
        rec = Record(i, {})
        found[k] = rec
        v = raw[vcol]
        if _blank(v):
            if col.required:
                errors.cell(sheet.name, i, vcol + 1, k, f"empty: {col.zh} {col.en} is required")
            continue
        x, problem = check_value(col, v)
        if problem:
            errors.cell(sheet.name, i, vcol + 1, k, problem)
            continue
        rec.values[k] = x
        if col.kind in ("number", "int", "share"):
            rec.label = _label(errors, sheet, i, scol + 1, raw[scol])
    for c in sheet.columns:
        if c.key not in found and c.required:
            errors.sheet(sheet.name, "column B", f"row for item '{c.key}' ({c.zh} {c.en}) is missing")
    return found


def read_workbook(source: str | Path | bytes, name: str | None = None) -> FilledWorkbook:
    """Read every sheet of a filled workbook; raise :class:`ScenarioErrors` listing every problem."""
    label = name or (str(source) if isinstance(source, str | Path) else "workbook.xlsx")
    wb = _open(source, label)
    errors = _Errors(label)
    try:
        present = {ws.title: ws for ws in wb.worksheets}
        for sheet in SHEETS:
            if sheet.required and sheet.name not in present:
                errors.sheet(
                    sheet.name,
                    "",
                    "sheet missing (start from `agingsim region template` and keep its sheet names)",
                )
        errors.raise_if_any()
        try:
            content = {s.name: _rows(present[s.name]) for s in SHEETS if s.name in present}
        except ScenarioError as exc:
            raise ScenarioError(label, exc.key, exc.problem) from None
    finally:
        wb.close()

    out = FilledWorkbook(path=label)
    fields = _read_fields(errors, REGION, content[REGION.name])
    for k, rec in fields.items():
        if k in rec.values:
            out.region[k] = rec.values[k]
            if rec.label is not None:
                out.region_labels[k] = rec.label
    out.population = _read_table(errors, POPULATION, content[POPULATION.name])
    out.counties = _read_table(errors, COUNTIES, content[COUNTIES.name])
    if ECON.name in content:
        econ = _read_fields(errors, ECON, content[ECON.name])
        given = {k: r for k, r in econ.items() if k in r.values}
        if given and len(given) < len(ECON.columns):
            missing = [c.key for c in ECON.columns if c.key not in given]
            errors.sheet(
                ECON.name,
                "column C",
                f"fill all four categories or none; missing: {', '.join(missing)}",
            )
        elif given:
            out.econ = {k: (r.values[k], r.label) for k, r in given.items() if r.label is not None}
    if BEDS.name in content:
        beds = _read_fields(errors, BEDS, content[BEDS.name])
        out.beds = {k: (r.values[k], r.label, r.row) for k, r in beds.items() if k in r.values and r.label}
        total = out.beds.get("institution_beds")
        for k in ("public_beds", "nursing_beds"):
            if k in out.beds and (total is None or out.beds[k][0] > total[0]):
                errors.cell(
                    BEDS.name,
                    out.beds[k][2],
                    ord(FIELD_COLUMNS["value"]) - ord("A") + 1,
                    k,
                    "must not exceed the institution beds (give institution_beds too)"
                    if total is None
                    else f"{out.beds[k][0]:,.0f} exceeds the institution beds {total[0]:,.0f}",
                )
    _check_population(errors, out)
    _check_counties(errors, out)
    errors.raise_if_any()
    return out


def _check_population(errors: _Errors, wb: FilledWorkbook) -> None:
    if not wb.population:
        errors.sheet(POPULATION.name, f"row {FIRST_DATA_ROW}", "no data rows: fill the people by age and sex")


def _check_counties(errors: _Errors, wb: FilledWorkbook) -> None:
    from agingsim.scenario.schema import SHARE_TOLERANCE

    if not wb.counties:
        errors.sheet(COUNTIES.name, f"row {FIRST_DATA_ROW}", "no data rows: at least one county or district")
        return
    seen: dict[str, int] = {}
    for rec in wb.counties:
        cid = rec.values["id"]
        if cid in seen:
            errors.cell(
                COUNTIES.name, rec.row, rec.col("id"), "id", f"duplicate id {cid!r} (also row {seen[cid]})"
            )
        else:
            seen[cid] = rec.row
    total = sum(r.values["share_60plus"] for r in wb.counties)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        errors.sheet(
            COUNTIES.name,
            "column share_60plus",
            f"shares of the 60+ sum to {total:.4g}, not 1 (rows {wb.counties[0].row}–{wb.counties[-1].row})",
        )
