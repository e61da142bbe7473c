"""Validator messages in the reader's language: the region workbook's problems in Chinese.

The validators (region.reader, region.importer, population.base) word their problems in English, as
the command line prints them (``FILE: SHEET row R, column C (key): PROBLEM``). Rather than a second
set of validators, each English message template here is matched against the problem text and its
Chinese twin filled with the same values, so the page shows the same message as the CLI, in Chinese.
A problem no template matches is shown in English with a visible "(English only)" mark, never hidden.
"""

from __future__ import annotations

import re
import string
from functools import cache

from agingsim.report.lang import Lang

#: English template (exactly as the validators word it, ``{field}`` for what varies) → (zh, en).
#: Keys name the rule; the English text is the one the match uses.
WORKBOOK_PROBLEMS: dict[str, tuple[str, str]] = {
    "yes_no_not_number": (
        "需要填数字，不能填是/否（填的是 {got}）",
        "a number is needed, not a yes/no value (got {got})",
    ),
    "text_in_number": (
        "数字单元格中填了文字（{got}）；只填数字",
        "text in a number cell (got {got}); write the number only",
    ),
    "date_not_number": (
        "需要填数字，不能填日期（{got}）；请把单元格格式设为数字",
        "a number is needed, not a date (got {got}); format the cell as a number",
    ),
    "not_number": ("不是数字（填的是 {got}）", "not a number (got {got})"),
    "not_finite": ("必须是有限的数字（填的是 {got}）", "must be a finite number (got {got})"),
    "not_finite_nonneg": (
        "必须是不小于 0 的有限数字（填的是 {got}）",
        "must be a finite number ≥ 0 (got {got})",
    ),
    "text_needed": ("需要填文字（填的是 {got}）", "text is needed (got {got})"),
    "control_chars": (
        "含有控制字符 {chars}：请重新输入文字",
        "contains control character(s) {chars}: retype the text",
    ),
    "id_chars": (
        "只能用小写字母 a-z、数字和 _（填的是 {got}）",
        "use lower-case letters a-z, digits and _ only (got {got})",
    ),
    "one_of": ("必须是 {choices} 之一（填的是 {got}）", "must be one of {choices} (got {got})"),
    # the reader's "男/女" is a value of the message, so the English template holds no Chinese
    "sex_codes": ("必须填 M/F 或 {codes}（填的是 {got}）", "must be M/F or {codes} (got {got})"),
    "date_needed": ("需要 YYYY-MM-DD 格式的日期（填的是 {got}）", "a date YYYY-MM-DD is needed (got {got})"),
    "year_range": ("年份必须在 1950–2100 之间（填的是 {got}）", "the year must be 1950–2100 (got {got})"),
    "whole_number": ("需要填整数（填的是 {got}）", "a whole number is needed (got {got})"),
    "negative": ("为负数：必须 ≥ {lo}（填的是 {got}）", "negative: must be ≥ {lo} (got {got})"),
    "below": ("小于 {below}：必须 ≥ {lo}（填的是 {got}）", "below {below}: must be ≥ {lo} (got {got})"),
    "above": ("超出范围：必须 ≤ {hi}（填的是 {got}）", "out of range: must be ≤ {hi} (got {got})"),
    "file_not_found": ("找不到文件", "file not found"),
    "not_xlsx_suffix": (
        "不是 Excel .xlsx 工作簿（文件类型为 '{suffix}'）；请另存为 .xlsx",
        "not an Excel .xlsx workbook (got a '{suffix}' file); save it as .xlsx",
    ),
    "not_xlsx_zip": (
        "不是 Excel .xlsx 工作簿（文件不是 Office Open XML 压缩包）",
        "not an Excel .xlsx workbook (the file is not an Office Open XML zip)",
    ),
    "not_readable": ("无法读取的 .xlsx 工作簿（{kind}）", "not a readable .xlsx workbook ({kind})"),
    "too_many_rows": ("超过 {n} 行：是否选错了工作表？", "more than {n} rows: is this the right sheet?"),
    "empty_source": (
        "来源为空：每个数字都需要来源（文件、表、年份）或“assumption: 理由”",
        "empty source: every figure needs one (document, table, year) or 'assumption: reasoning'",
    ),
    "example_row_changed": (
        "第 {example} 行是示例行，导入时忽略，但它被改动了（填的是 {got}，示例为 {ex}）："
        "请从第 {first} 行起填数据，并恢复或清空第 {example} 行",
        "row {example} is the example row and is ignored on import, but it was changed (got {got}, "
        "example {ex}): put data from row {first} on and restore or clear row {example}",
    ),
    "unknown_column": ("未知的列；应为 {known}", "unknown column; expected {known}"),
    "column_twice": ("列重复出现（另见 {col} 列）", "column appears twice (also column {col})"),
    "missing_column": ("缺少列 '{key}'（{name}）", "missing column '{key}' ({name})"),
    "required": ("为空：{name} 必填", "empty: {name} is required"),
    "value_without_item": ("有数值但 B 列没有项目代码", "a value without its item code in column B"),
    "unknown_item": ("未知项目 {item}；应为 {known}", "unknown item {item}; expected {known}"),
    "item_twice": ("项目 {item} 重复出现（另见第 {row} 行）", "item {item} appears twice (also row {row})"),
    "item_row_missing": ("缺少项目 '{key}'（{name}）所在的行", "row for item '{key}' ({name}) is missing"),
    "sheet_missing": (
        "缺少工作表（请从 `agingsim region template` 生成的模板开始，并保留其工作表名称）",
        "sheet missing (start from `agingsim region template` and keep its sheet names)",
    ),
    "econ_all_or_none": (
        "四类人数要么全填，要么都不填；缺少：{missing}",
        "fill all four categories or none; missing: {missing}",
    ),
    "econ_above_60plus": (
        "人数超过了60岁及以上人口：按基准年龄梯度，{band} 岁将有 {share} 为救助对象"
        "（人口表中60岁及以上：{total}）",
        "the counts exceed the people 60+: with the base age gradient, ages {band} would be {share} "
        "recipients (60+ in the population sheet: {total})",
    ),
    "beds_need_total": (
        "不能超过机构床位总数（请同时填写 institution_beds）",
        "must not exceed the institution beds (give institution_beds too)",
    ),
    "beds_above_total": ("{n} 超过机构床位总数 {total}", "{n} exceeds the institution beds {total}"),
    "no_population_rows": (
        "没有数据行：请按年龄和性别填写人数",
        "no data rows: fill the people by age and sex",
    ),
    "no_county_rows": ("没有数据行：至少填写一个区县", "no data rows: at least one county or district"),
    "duplicate_id": ("代码 {id} 重复（另见第 {row} 行）", "duplicate id {id} (also row {row})"),
    "shares_sum": (
        "60岁及以上人口占比合计为 {total}，不等于 1（第 {rows} 行）",
        "shares of the 60+ sum to {total}, not 1 (rows {rows})",
    ),
    "nobody_60plus": ("没有60岁及以上的人", "nobody aged 60 or over"),
    "sex_starts_old": (
        "性别 {sex} 从 {age} 岁开始：表格须覆盖 {young} 岁及以上（今后20年内满60岁的人群）",
        "sex {sex} starts at {age}: the table must cover ages {young}+ "
        "(the cohorts that turn 60 in the next 20 years)",
    ),
    "open_group_not_last": (
        "性别 {sex} 只有最后一组可以不填上限；第 {row} 行从 {age} 岁开始",
        "only the last group of sex {sex} may be open; row {row} starts at {age}",
    ),
    "ages_overlap": (
        "性别 {sex}：{age} 岁与第 {row} 行的年龄组 {group} 重叠",
        "sex {sex}: {age} overlaps the group {group} of row {row}",
    ),
    "ages_missing": (
        "性别 {sex}：缺少 {ages} 岁（上一组为第 {row} 行的 {group}）",
        "sex {sex}: ages {ages} missing (previous group {group}, row {row})",
    ),
    "top_group_differs": (
        "男女的最高年龄组必须相同（同样的开放年龄，或同样的上限）",
        "the top group must be the same for M and F (same open age, or same stated top)",
    ),
    "sex_missing": (
        "没有性别 {sex} 的行：男（M）女（F）都需要",
        "no rows for sex {sex}: both M and F are needed",
    ),
}

#: Shown after a problem no template matches (the validator's English, as is).
ENGLISH_ONLY: tuple[str, str] = ("（仅有英文）", " (English only)")


@cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """Each English template as an anchored regex (a field used twice must repeat its value)."""
    out = []
    for zh, en in WORKBOOK_PROBLEMS.values():
        parts, seen = [], set()
        for literal, field, _, _ in string.Formatter().parse(en):
            parts.append(re.escape(literal))
            if field:
                parts.append(f"(?P={field})" if field in seen else f"(?P<{field}>.+?)")
                seen.add(field)
        out.append((re.compile("^" + "".join(parts) + "$", re.DOTALL), zh))
    return out


def translate_problem(problem: str, lang: Lang) -> tuple[str, bool]:
    """The problem in ``lang`` and whether it was translated (English is always the original)."""
    if lang == "en":
        return problem, True
    for pattern, zh in _patterns():
        m = pattern.match(problem)
        if m:
            return zh.format(**m.groupdict()), True
    return problem + ENGLISH_ONLY[0], False
