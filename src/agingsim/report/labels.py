"""Chinese and English wording for every chart, sheet and slide, and number formatting.

One table, so the CLI, the app, the workbook and the deck say the same thing in the same words, and a
reviewer can check the Chinese terms (GB/T 42195 levels, 省级/市级/县级) in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from agingsim.population.attributes import ABILITY_LEVELS, ABILITY_ZH

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

#: key -> (zh, en). Titles may hold ``{placeholders}`` filled by :func:`label`.
LABELS: dict[str, tuple[str, str]] = {
    # units and axes
    "unit_wan": ("万元", "10,000 CNY"),
    "unit_cny": ("元", "CNY"),
    "unit_people": ("人", "people"),
    "axis_year": ("年份", "Year"),
    "axis_cost_wan": ("支出（万元）", "Spending (10,000 CNY)"),
    "axis_diff_wan": ("差额 B−A（万元）", "Difference B − A (10,000 CNY)"),
    "axis_people": ("人数", "People"),
    "axis_age_band": ("年龄组（岁）", "Age band (years)"),
    "axis_share_pct": ("占比（%）", "Share (%)"),
    "axis_beds": ("床位（张）", "Beds"),
    "axis_waiting": ("轮候人数", "People waiting"),
    "axis_occupancy": ("入住率（%）", "Occupancy (%)"),
    # chart titles
    "title_cost_by_payer": ("分级财政支出（按年份）", "Spending by level of government, by year"),
    "title_cost_by_line_item": ("各补贴项目支出（按年份）", "Spending by subsidy line, by year"),
    "title_compare": ("方案对比：年度总支出", "Scheme A vs B: total spending by year"),
    "title_compare_diff": ("差额（B − A）", "Difference (B − A)"),
    "title_pyramid": ("{year}年老年人口结构（按能力等级）", "Older population by ability level, {year}"),
    "title_fan": ("{what}（中位数与90%区间）", "{what} (median and 90% interval)"),
    "title_coverage": ("需要照护者的照护方式", "People needing care, by care setting"),
    "title_beds": ("床位、入住率与轮候", "Beds, occupancy and waiting lists"),
    # legend entries
    "legend_total": ("合计", "Total"),
    "legend_median": ("中位数", "Median"),
    "legend_band90": ("90%区间", "90% interval"),
    "legend_beds": ("床位总数", "Beds"),
    "legend_occupied": ("在住床位", "Occupied beds"),
    "legend_occupancy": ("入住率", "Occupancy"),
    "legend_waiting": ("轮候人数", "Waiting"),
    "legend_increase": ("B 多支出", "B spends more"),
    "legend_decrease": ("B 少支出", "B spends less"),
    "sex_M": ("男", "Men"),
    "sex_F": ("女", "Women"),
    # footer
    "footer": (
        "情景：{scenario} · 随机种子 {seed} · agingsim {version} · {date}",
        "Scenario: {scenario} · seed {seed} · agingsim {version} · {date}",
    ),
    "footer_compare": (
        "A：{a} · B：{b} · 随机种子 {seed} · agingsim {version} · {date}",
        "A: {a} · B: {b} · seed {seed} · agingsim {version} · {date}",
    ),
    # workbook sheets and columns
    "sheet_summary": ("摘要", "Summary"),
    "sheet_ledger": ("财政台账", "Ledger"),
    "sheet_by_payer": ("按财政层级", "By payer"),
    "sheet_by_line_item": ("按补贴项目", "By line item"),
    "sheet_population": ("人口", "Population"),
    "sheet_assumptions": ("参数与来源", "Assumptions"),
    "sheet_comparison": ("方案对比", "Comparison"),
    "sheet_coverage": ("覆盖情况", "Coverage"),
    "col_item": ("项目", "Item"),
    "col_value": ("数值", "Value"),
    "col_unit": ("单位", "Unit"),
    "col_year": ("年份", "Year"),
    "col_month": ("月份", "Month"),
    "col_line_item": ("补贴项目", "Line item"),
    "col_line_item_id": ("项目代码", "Line item id"),
    "col_rule": ("资格组", "Eligible group"),
    "col_scheme_family": ("补贴类别", "Scheme family"),
    "col_payer_level": ("财政层级", "Payer level"),
    "col_payer_region": ("付款地区", "Payer region"),
    "col_county": ("县（区）", "County"),
    "col_funding": ("资金来源", "Funding"),
    "col_amount_cny": ("金额（元）", "Amount (CNY)"),
    "col_amount_wan": ("金额（万元）", "Amount (10,000 CNY)"),
    "col_beneficiaries": ("受益人数", "Beneficiaries"),
    "col_sex": ("性别", "Sex"),
    "col_age_band": ("年龄组", "Age band"),
    "col_ability_level": ("能力等级", "Ability level"),
    "col_people": ("人数", "People"),
    "col_file": ("文件", "File"),
    "col_key": ("参数", "Parameter"),
    "col_provenance": ("来源/假设", "Source/assumption"),
    "col_text": ("说明", "Note"),
    "col_measure": ("指标", "Measure"),
    "col_a": ("方案A", "A"),
    "col_b": ("方案B", "B"),
    "col_b_minus_a": ("B − A", "B − A"),
    "provenance_source": ("来源", "source"),
    "provenance_assumption": ("假设", "assumption"),
    # headline rows
    "h_scenario": ("情景", "Scenario"),
    "h_region": ("地区", "Region"),
    "h_period": ("测算期", "Period"),
    "h_seed": ("随机种子", "Seed"),
    "h_version": ("模型版本", "Model version"),
    "h_date": ("日期", "Date"),
    "h_cost_total": ("总支出", "Total spending"),
    "h_cost_payer": ("{level}支出", "{level} spending"),
    "h_cost_pv": ("总支出现值（贴现率 {rate}）", "Present value of spending (discount rate {rate})"),
    "h_people_first": ("{year}年60岁及以上人口", "People 60+ in {year}"),
    "h_people_last": ("{year}年60岁及以上人口", "People 60+ in {year}"),
    "h_need_first": ("{year}年需要照护（中度及以上失能）", "Needing care (moderate+) in {year}"),
    "h_need_last": ("{year}年需要照护（中度及以上失能）", "Needing care (moderate+) in {year}"),
    "h_unpaid": ("预算用尽未支付", "Unpaid when budgets ran out"),
    # deck
    "deck_headline": ("主要结果", "Headline numbers"),
    "deck_assumptions": ("主要参数与来源", "Key parameters and their sources"),
    "deck_more": (
        "另有 {n} 项参数见工作簿“{sheet}”表。",
        "{n} more parameters in the workbook's “{sheet}” sheet.",
    ),
    "deck_all": ("全部参数见工作簿“{sheet}”表。", "All parameters are in the workbook's “{sheet}” sheet."),
    "deck_compare_title": ("方案对比", "Scheme comparison"),
    "over_years_sum": ("，各年合计", ", all years"),
    "over_years_mean": ("，年均", ", yearly mean"),
}

PAYER_LEVELS: dict[str, tuple[str, str]] = {
    "province": ("省级", "Province"),
    "city": ("市级", "City"),
    "county": ("县级", "County"),
}
SCHEME_FAMILIES: dict[str, tuple[str, str]] = {
    "supply": ("供给侧补贴（设施）", "Supply side (facilities)"),
    "demand": ("需求侧补贴（服务）", "Demand side (services)"),
    "allowance": ("津贴补贴", "Allowances"),
    "workforce": ("人才队伍补贴", "Workforce"),
}
FUNDING: dict[str, tuple[str, str]] = {
    "budget": ("财政预算", "Budget"),
    "lottery": ("福利彩票公益金", "Welfare lottery"),
}
ABILITY: dict[str, tuple[str, str]] = {
    level: (ABILITY_ZH[level], en)
    for level, en in zip(
        ABILITY_LEVELS, ("Intact", "Mild", "Moderate", "Severe", "Complete loss"), strict=True
    )
}
#: Care settings of issue 4 (coverage.csv); ``unserved`` is people in need who get none.
CARE_SETTINGS: dict[str, tuple[str, str]] = {
    "family": ("家庭照护", "Family care"),
    "home_services": ("居家上门服务", "Home services"),
    "family_bed": ("家庭养老床位", "Family elderly bed"),
    "day_care": ("社区日间照料", "Community day care"),
    "institution": ("机构养老", "Institution"),
    "unserved": ("未获服务", "Not served"),
}
#: comparison.csv measures; cost_<level>_wan are built from PAYER_LEVELS.
MEASURES: dict[str, tuple[str, str]] = {
    "cost_total_wan": ("总支出（万元）", "Total spending (10,000 CNY)"),
    "people_served_per_month": ("月均服务人数", "People served per month"),
    "cost_per_person_served_cny_per_year": ("人均年支出（元）", "Cost per person served (CNY/year)"),
    **{
        f"cost_{level}_wan": (f"{zh}支出（万元）", f"{en} spending (10,000 CNY)")
        for level, (zh, en) in PAYER_LEVELS.items()
    },
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]


def label(key: str, lang: Lang, **fields: object) -> str:
    """The wording of ``key`` in ``lang``, with ``{placeholders}`` filled from ``fields``."""
    text = _pick(LABELS[key], lang)
    return text.format(**fields) if fields else text


def _lookup(table: Mapping[str, tuple[str, str]], code: str, lang: Lang) -> str:
    return _pick(table[code], lang) if code in table else str(code)


def payer_label(level: str, lang: Lang) -> str:
    return _lookup(PAYER_LEVELS, level, lang)


def family_label(family: str, lang: Lang) -> str:
    return _lookup(SCHEME_FAMILIES, family, lang)


def funding_label(funding: str, lang: Lang) -> str:
    return _lookup(FUNDING, funding, lang)


def ability_label(level: str, lang: Lang) -> str:
    return _lookup(ABILITY, level, lang)


def setting_label(setting: str, lang: Lang) -> str:
    return _lookup(CARE_SETTINGS, setting, lang)


def measure_label(measure: str, lang: Lang) -> str:
    return _lookup(MEASURES, measure, lang)


def provenance_label(kind: str, lang: Lang) -> str:
    return label(f"provenance_{kind}", lang) if f"provenance_{kind}" in LABELS else kind


def line_item_label(item: str, names: Mapping[str, tuple[str, str]], lang: Lang) -> str:
    """A line item by its scheme's name (zh, or en when the scenario gives one); else its id."""
    if item in names:
        zh, en = names[item]
        return zh if lang == "zh" or not en else en
    return item


def fmt_number(x: float, decimals: int = 0) -> str:
    """Thousands separators, as a finance office writes numbers: 1,234,567.89."""
    return f"{x:,.{decimals}f}"


def fmt_wan(x: float) -> str:
    """An amount in 万元 with two decimals (the precision of ledger_by_payer.csv)."""
    return fmt_number(x, 2)
