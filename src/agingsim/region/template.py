"""``agingsim region template OUT.xlsx``: the empty workbook a civil-affairs user fills in.

Why a workbook: the people who know a county's figures keep them in spreadsheets, not TOML. Each sheet
states its columns in Chinese and English with the unit and an example row (row 4, ignored on import).
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from agingsim.errors import ScenarioError
from agingsim.region.workbook import (
    FIELD_COLUMNS,
    HEADER_ROWS,
    README_SHEET,
    SHEETS,
    Column,
    Sheet,
)

BOLD = Font(bold=True)
GREY = Font(italic=True, color="808080")
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")

README_LINES = (
    ("养老服务补贴测算模型 · 地区数据模板", "agingsim · bring-your-own-region workbook"),
    ("", ""),
    ("填写方法", "How to fill it in"),
    (
        "每个表的第1–4行是表头: 中文列名、英文列名(导入时按它识别列, 请勿修改)、单位、"
        "示例(导入时忽略)。从第5行起填写。",
        "Rows 1–4 of each table are its header: Chinese name, English key (the importer finds columns by "
        "it: do not edit), unit, and an example (ignored on import). Fill from row 5.",
    ),
    (
        "“地区”和“经济状况”表每行一个项目: 在“值”列填写, 在“来源”列写出处。",
        "'Region' and 'Economic status' have one item per row: fill the Value column and its Source.",
    ),
    (
        "每个数字都要有来源(文件、表号、年份); 没有出处的估计写“假设: 理由”。来源为空是错误。",
        "Every figure needs a source (document, table, year); an estimate without one is written "
        "'assumption: reasoning'. An empty source is an error.",
    ),
    (
        "数字单元格只填数字(人数为人, 不是万人; 比例为0–1的小数)。",
        "Number cells hold numbers only (people in persons, not 10,000s; shares as decimals 0–1).",
    ),
    ("", ""),
    ("导入", "Import"),
    (
        "agingsim region import 本文件.xlsx --id 地区代码   (代码: 小写字母、数字、下划线)",
        "agingsim region import THIS.xlsx --id NAME   (NAME: lower-case letters, digits, underscores)",
    ),
    (
        "有错误时列出表、行、列和问题, 不写任何文件。",
        "On any error it names sheet, row, column and problem, and writes nothing.",
    ),
    ("", ""),
    ("各表", "Sheets"),
)


#: Rows that get Excel's input checks (dropdown for sex, ranges for numbers); the importer checks all.
VALIDATED_ROWS = 2000


def _validation(col: Column) -> DataValidation | None:
    """Excel's own input check for a column, so a mistyped cell is flagged while typing."""
    if col.kind == "sex":
        dv = DataValidation(type="list", formula1='"M,F,男,女"', allow_blank=True)
    elif col.kind in ("int", "number", "share"):
        kind = "whole" if col.kind == "int" else "decimal"
        if col.lo is not None and col.hi is not None:
            dv = DataValidation(type=kind, operator="between", formula1=f"{col.lo:g}", formula2=f"{col.hi:g}")
        elif col.lo is not None:
            dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=f"{col.lo:g}")
        else:
            return None
        dv.allow_blank = True
    else:
        return None
    dv.error = f"{col.zh} {col.en}: {col.unit}"
    dv.errorTitle = "输入无效 Invalid entry"
    dv.showErrorMessage = True
    return dv


def _table_sheet(ws, sheet: Sheet) -> None:
    for j, col in enumerate(sheet.columns, start=1):
        cells = (col.zh + ("" if col.required else " (可选)"), col.key, col.unit, col.example)
        for i, value in enumerate(cells, start=1):
            c = ws.cell(row=i, column=j, value=value)
            c.alignment = WRAP
            if i <= 2:
                c.font = BOLD
                c.fill = HEAD_FILL
            elif i == HEADER_ROWS:
                c.font = GREY
        ws.column_dimensions[get_column_letter(j)].width = 28 if col.key == "source" else 18
    ws.cell(
        row=HEADER_ROWS, column=len(sheet.columns) + 1, value="← 示例, 导入时忽略 example, ignored"
    ).font = GREY
    ws.freeze_panes = ws.cell(row=HEADER_ROWS + 1, column=1)
    for j, col in enumerate(sheet.columns, start=1):
        dv = _validation(col)
        if dv is not None:
            letter = get_column_letter(j)
            dv.add(f"{letter}{HEADER_ROWS + 1}:{letter}{VALIDATED_ROWS}")
            ws.add_data_validation(dv)


def _fields_sheet(ws, sheet: Sheet) -> None:
    heads = {
        "label": ("项目", "Item"),
        "key": ("代码(勿改)", "key"),
        "value": ("值", "value"),
        "unit": ("单位", "Unit"),
        "note": ("说明 / 示例", "Note / example"),
        "source": ("来源", "source"),
    }
    for name, letter in FIELD_COLUMNS.items():
        for i, text in enumerate(heads[name], start=1):
            c = ws[f"{letter}{i}"]
            c.value = text
            c.font = BOLD
            c.fill = HEAD_FILL
        ws.column_dimensions[letter].width = {"label": 30, "key": 20, "note": 40, "source": 40}.get(name, 18)
    for i, col in enumerate(sheet.columns, start=3):
        ws[f"A{i}"] = f"{col.zh} {col.en}" + ("" if col.required else " (可选 optional)")
        ws[f"B{i}"] = col.key
        ws[f"D{i}"] = col.unit
        note = f"示例 e.g. {col.example}" + (f"; {col.note}" if col.note else "")
        ws[f"E{i}"] = note
        for letter in "ADE":
            ws[f"{letter}{i}"].alignment = WRAP
        ws[f"E{i}"].font = GREY
        dv = _validation(col)
        if dv is not None:
            dv.add(f"C{i}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "C3"


def template_bytes() -> bytes:
    """The template workbook as .xlsx bytes (for the CLI and for an app download button)."""
    wb = Workbook()
    ws = wb.active
    ws.title = README_SHEET
    for i, (zh, en) in enumerate(README_LINES, start=1):
        ws.cell(row=i, column=1, value=zh).alignment = WRAP
        ws.cell(row=i, column=2, value=en).alignment = WRAP
    row = len(README_LINES) + 1
    for sheet in SHEETS:
        ws.cell(
            row=row, column=1, value=sheet.name + ("" if sheet.required else " (可选 optional)")
        ).font = BOLD
        ws.cell(row=row, column=2, value=sheet.purpose).alignment = WRAP
        row += 1
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 80
    for sheet in SHEETS:
        target = wb.create_sheet(sheet.name)
        (_table_sheet if sheet.form == "table" else _fields_sheet)(target, sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_template(path: str | Path, force: bool = False) -> Path:
    """Write the template to ``path`` (.xlsx) atomically: a temporary file, then a rename. An existing
    file (perhaps a filled workbook) is replaced only with ``force``."""
    out = Path(path)
    if out.exists() and not force:
        raise ScenarioError(out, "", "file exists (a filled workbook?); choose another name or pass --force")
    if out.suffix.lower() != ".xlsx":
        raise ScenarioError(out, "", "the template is an Excel workbook: give a file name ending in .xlsx")
    if not out.parent.is_dir():
        raise ScenarioError(out, "", f"folder does not exist: {out.parent}")
    data = template_bytes()
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a template is an ordinary file
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
