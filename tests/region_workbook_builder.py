"""Fill the region template with openpyxl as a user would (tests of agingsim.region)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from agingsim.region.template import template_bytes
from agingsim.region.workbook import BEDS, COUNTIES, ECON, FIRST_DATA_ROW, POPULATION, REGION

SRC = "assumption: test county, hand-built round numbers"
#: people by 5-year group (40-44 … 95-99, then 100+) for M and F: a hand-built county
GROUPS = [
    (40, 44),
    (45, 49),
    (50, 54),
    (55, 59),
    (60, 64),
    (65, 69),
    (70, 74),
    (75, 79),
    (80, 84),
    (85, 89),
    (90, 94),
    (95, 99),
    (100, None),
]
PEOPLE = {
    "M": [9000, 8500, 9500, 8000, 7000, 6000, 4500, 3000, 2000, 1000, 400, 100, 20],
    "F": [8800, 8400, 9400, 8100, 7200, 6300, 4900, 3500, 2600, 1400, 600, 180, 40],
}
REGION_FIELDS: dict[str, Any] = {
    "name": "测试县",
    "name_en": "Test County",
    "province": "测试省",
    "reference_date": "2020-11-01",
}
COUNTY_ROWS = [
    {
        "id": "chengguan",
        "name": "城关镇",
        "share_60plus": 0.6,
        "urban_share": 0.8,
        "ltc_insured_share": 0.2,
        "source": SRC,
    },
    {
        "id": "xiangcun",
        "name": "乡村镇",
        "share_60plus": 0.4,
        "urban_share": 0.1,
        "source": "第七次人口普查 某县公报 (2021) 表3",
    },
]
ECON_COUNTS = {"tekun_centralised": 200, "tekun_dispersed": 500, "dibao": 3000, "near_dibao": 1500}
BEDS_COUNTS = {"institution_beds": 800, "public_beds": 300, "nursing_beds": 400, "day_care_places": 200}


def population_rows() -> list[dict[str, Any]]:
    return [
        {"age_lower": lo, "age_upper": hi, "sex": sex, "people": n, "source": SRC}
        for sex in ("M", "F")
        for (lo, hi), n in zip(GROUPS, PEOPLE[sex], strict=True)
    ]


def _header(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[2] if c.value}


def fill(
    path: Path,
    population: list[dict[str, Any]] | None = None,
    counties: list[dict[str, Any]] | None = None,
    region: dict[str, Any] | None = None,
    econ: dict[str, Any] | None = None,
    beds: dict[str, Any] | None = None,
    region_sources: dict[str, str] | None = None,
) -> Path:
    """Write a filled template to ``path``; ``None`` arguments take the hand-built county's values."""
    wb = load_workbook(io.BytesIO(template_bytes()))
    for sheet, rows in (
        (POPULATION, population if population is not None else population_rows()),
        (COUNTIES, counties if counties is not None else COUNTY_ROWS),
    ):
        ws = wb[sheet.name]
        cols = _header(ws)
        for i, row in enumerate(rows):
            for k, v in row.items():
                ws.cell(row=FIRST_DATA_ROW + i, column=cols[k], value=v)
    for sheet, values, sources in (
        (REGION, region if region is not None else REGION_FIELDS, region_sources or {}),
        (ECON, econ if econ is not None else ECON_COUNTS, {}),
        (BEDS, beds if beds is not None else BEDS_COUNTS, {}),
    ):
        ws = wb[sheet.name]
        rows = {ws[f"B{r}"].value: r for r in range(3, ws.max_row + 1)}
        for k, v in values.items():
            ws[f"C{rows[k]}"] = v
            ws[f"F{rows[k]}"] = sources.get(k, SRC)
    wb.save(path)
    return path
