"""Output tables as a reader sees them: headers in words, codes as names, no ``None`` or ``NaN``.

The CSV files keep their codes (they are data for other programs); a table shown on the page or put in
a workbook goes through :func:`display`, so county ids become 南明区, ``policy_guaranteed`` becomes
特困等兜底保障对象 and ``mean_wait_months`` becomes 平均轮候（月）, in either language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from agingsim.report.labels import (
    AREA_LEVELS,
    Lang,
    ability_label,
    column_label,
    econ_label,
    payer_label,
    priority_label,
    residence_label,
    setting_label,
)

#: Shown for a missing value (a mean wait with nobody waiting, a year with no admissions).
MISSING = "—"
Names = Mapping[str, tuple[str, str]]


def _pick(names: Names, code: Any, lang: Lang) -> Any:
    if not isinstance(code, str) or code not in names:
        return code
    zh, en = names[code]
    return zh if lang == "zh" or not en else en


def region_names(scenario: Any) -> dict[str, tuple[str, str]]:
    """County id → (Chinese name, English name or the id capitalised) from the scenario's region."""
    counties = getattr(getattr(scenario, "region", None), "counties", None) or []
    return {c.id: (c.name or c.id, c.name_en or c.id.replace("_", " ").title()) for c in counties}


def group_names(scenario: Any) -> dict[str, tuple[str, str]]:
    """Eligible group id → (its clause in the seed's words, the id in words) from the scenario."""
    policy = getattr(getattr(scenario, "file", None), "policy", None)
    out: dict[str, tuple[str, str]] = {}
    for s in getattr(policy, "schemes", []) or []:
        for g in getattr(s, "groups", []) or []:
            clause = str(getattr(g, "clause", "") or "")
            zh = clause.split(":", 1)[1].strip() if ":" in clause else clause or g.id
            out[g.id] = (zh, g.id.replace("_", " "))
    return out


def display(
    frame: pd.DataFrame,
    lang: Lang,
    counties: Names | None = None,
    line_items: Names | None = None,
    groups: Names | None = None,
    numbers: bool = False,
) -> pd.DataFrame:
    """``frame`` with codes replaced by names and headers by words in ``lang``; missing values shown
    as a dash. Columns it does not know keep their values; every header goes through the label table.
    With ``numbers`` a numeric column keeps NaN (one type, as Arrow needs; the page's Styler shows
    the dash: ``na_rep=MISSING``)."""
    out = frame.copy()
    values: dict[str, Any] = {
        "county": lambda v: _pick(counties or {}, v, lang),
        "area": lambda v: _pick(counties or {}, v, lang),
        "payer_region": lambda v: _pick(counties or {}, v, lang),
        "level": lambda v: _pick(AREA_LEVELS, v, lang),
        "priority_group": lambda v: priority_label(v, lang),
        "payer_level": lambda v: payer_label(v, lang),
        "line_item": lambda v: _pick(line_items or {}, v, lang),
        "scheme": lambda v: _pick(line_items or {}, v, lang),
        "rule": lambda v: _pick(groups or {}, v, lang),
        "group": lambda v: _pick(groups or {}, v, lang),
        "setting": lambda v: setting_label(v, lang),
        "ability": lambda v: ability_label(v, lang),
        "ability_level": lambda v: ability_label(v, lang),
        "econ_status": lambda v: econ_label(v, lang),
        "residence": lambda v: residence_label(v, lang),
    }
    for col in out.columns:
        if col in values:
            out[col] = out[col].map(values[col])
    for col in out.columns:
        if out[col].isna().any() and not (numbers and pd.api.types.is_numeric_dtype(out[col])):
            out[col] = out[col].astype(object).where(out[col].notna(), MISSING)
    out.columns = [column_label(str(c), lang) for c in out.columns]
    return out
