"""Chinese and English wording for every chart, sheet and slide, and number formatting.

One table, so the CLI, the app, the workbook and the deck say the same thing in the same words, and a
reviewer can check the Chinese terms (GB/T 42195 levels, 省级/市级/县级) in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from agingsim.population.attributes import ABILITY_LEVELS, ABILITY_ZH
from agingsim.report.lang import Lang
from agingsim.report.problems import WORKBOOK_PROBLEMS  # noqa: F401  (in the label tables' test)

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
    "title_compare_served": (
        "方案对比：获得正式照护的失能老年人（中度及以上）",
        "Scheme A vs B: people needing care who get formal care",
    ),
    "title_compare_cost_per_served": (
        "方案对比：每服务一名失能老年人的年支出",
        "Scheme A vs B: yearly cost per person in need served",
    ),
    "axis_diff_people": ("差额 B−A（人）", "Difference B − A (people)"),
    "axis_cny_per_person_year": ("元/人·年", "CNY per person-year"),
    "axis_diff_cny": ("差额 B−A（元）", "Difference B − A (CNY)"),
    "title_compare_diff": ("差额（B − A）", "Difference (B − A)"),
    "target_met": ("达到", "met"),
    "target_missed": ("未达到", "missed"),
    "col_target": ("政策目标", "Policy target"),
    "col_clause": ("文件条款", "Clause"),
    "col_required": ("要求值", "Required"),
    "col_model": ("模型测算值", "Model value"),
    "col_met": ("是否达到", "Met"),
    "sheet_scorecard": ("目标对照", "Scorecard"),
    "deck_scorecard": ("政策目标对照（记分卡）", "Policy targets: the scorecard"),
    "deck_cards": ("测算要点", "Key numbers"),
    "title_waterfall": (
        "测算期支出差额（B − A）按补贴项目分解",
        "Spending difference B − A over the period, by subsidy line",
    ),
    "title_pyramid": ("{when}老年人口结构（按能力等级）", "Older population by ability level, {when}"),
    # a stock's date in the horizon convention (fiscal_period): 1 January Y is the start of Y or,
    # after the first year, the end of Y − 1 (the year-end figure a yearbook gives)
    "stock_start": ("{year}年初", "start of {year}"),
    "stock_end": ("{year}年末", "end of {year}"),
    "year_mean": ("{year}年月均", "monthly mean of {year}"),
    "title_fan": ("{what}（中位数与90%区间）", "{what} (median and 90% interval)"),
    "title_coverage": ("需要照护者的照护方式", "People needing care, by care setting"),
    "title_beds": ("床位、入住率与轮候", "Beds, occupancy and waiting lists"),
    # legend entries
    "legend_total": ("合计", "Total"),
    "legend_median": ("中位数", "Median"),
    "legend_band90": ("90%区间", "90% interval"),
    # a sweep's runs are chosen design points, not draws of an uncertainty: their spread is no interval
    "title_fan_runs": (
        "{what}（各次运行的中位数与5%–95%分位）",
        "{what} (median and 5th–95th percentile of the sweep's runs)",
    ),
    "legend_band_runs": ("各次运行的5%–95%分位", "5th–95th percentile of the runs"),
    "legend_beds": ("床位总数", "Beds"),
    "legend_occupied": ("在住床位", "Occupied beds"),
    "legend_occupancy": ("入住率", "Occupancy"),
    "legend_waiting": ("轮候人数", "Waiting"),
    "legend_increase": ("B 多支出", "B spends more"),
    "legend_decrease": ("B 少支出", "B spends less"),
    "legend_more": ("B 更多", "B higher"),
    "legend_less": ("B 更少", "B lower"),
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
    "sheet_lottery": ("福彩公益金", "Welfare lottery funds"),
    "sheet_rationing": ("资金不足轮候", "Budget rationing"),
    "col_setting": ("照护方式", "Care setting"),
    "col_need_monthly": ("需要照护人数（月均）", "People needing care (monthly mean)"),
    "col_all_monthly": ("60岁及以上人数（月均）", "People 60+ (monthly mean)"),
    "col_lottery_retained": ("留存福彩公益金（元）", "Lottery funds retained (CNY)"),
    "col_lottery_spent": ("用于养老服务（元）", "Spent on elderly services (CNY)"),
    "col_lottery_share": ("用于养老服务比例", "Share spent on elderly services"),
    "col_lottery_required": ("规定最低比例", "Required minimum share"),
    "col_lottery_overspent": ("支出超过留存额", "Spent more than retained"),
    "col_people_waiting": ("轮候人数（人/户）", "Waiting (people or households)"),
    "col_unpaid_cny": ("未支付金额（元）", "Unpaid (CNY)"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
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
    "sheet_interval": ("差值区间", "Difference interval"),
    "col_a_mean": ("方案A（各次重复均值）", "A (mean of replications)"),
    "col_b_mean": ("方案B（各次重复均值）", "B (mean of replications)"),
    "col_diff_p05": ("B − A 5%分位", "B − A p05"),
    "col_diff_p50": ("B − A 中位数", "B − A median"),
    "col_diff_p95": ("B − A 95%分位", "B − A p95"),
    "col_rel_p05": ("相对差 5%分位", "Relative p05"),
    "col_rel_p50": ("相对差中位数", "Relative median"),
    "col_rel_p95": ("相对差 95%分位", "Relative p95"),
    "col_verdict": ("90%区间", "90% interval"),
    "verdict_excludes_zero": ("不含零", "excludes 0"),
    "verdict_includes_zero": ("含零", "includes 0"),
    "verdict_not_modelled": ("一方无此数值", "empty for one arm"),
    "h_replication0": (
        "以下A、B为第0次重复；{n}次配对重复的差值区间见“{sheet}”表",
        "A and B below are replication 0; the interval over {n} paired replications is in “{sheet}”",
    ),
    "deck_interval": (
        "B − A 及其90%区间（{n}次配对重复）",
        "B − A with its 90% interval ({n} paired replications)",
    ),
    "deck_headline_replication0": ("主要结果（第0次重复）", "Headline numbers (replication 0)"),
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
    "h_people_first": ("{year}年初60岁及以上人口", "People 60+ at the start of {year}"),
    "h_people_last": ("{year}年末60岁及以上人口", "People 60+ at the end of {year}"),
    "h_need_first": ("{year}年初需要照护（中度及以上失能）", "Needing care (moderate+), start of {year}"),
    "h_need_last": ("{year}年末需要照护（中度及以上失能）", "Needing care (moderate+), end of {year}"),
    "period": ("{first}–{last}年度", "FY{first}–FY{last}"),
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
    "deck_map": ("{year}年{minutes}分钟养老服务圈", "The {minutes}-minute service circle, {year}"),
    "deck_map_reach": (
        "全域老年人中，社区步行{minutes}分钟内有开放设施的比例：",
        "Share of the region's elders with an open facility within a {minutes}-minute walk:",
    ),
    "over_years_sum": ("，共同年份合计", ", sum of the years both cover"),
    "over_years_mean": ("，共同年份年均", ", mean of the years both cover"),
    "own_years_sum": ("，各自年份合计（无共同年份）", ", sum of each arm's own years (none in common)"),
    "own_years_mean": ("，各自年份年均（无共同年份）", ", mean of each arm's own years (none in common)"),
    "over_years_pv": ("，贴现率 {rate}", ", discount rate {rate}"),
    # 15-minute service circle maps (agingsim.geo)
    "map_coverage_title": (
        "{minutes:g}分钟养老服务圈覆盖（{year}）",
        "{minutes:g}-minute service circle coverage ({year})",
    ),
    "map_siting_title": ("新增设施选址（最大覆盖模型）", "New facility sites (maximal covering model)"),
    "map_covered": ("步行{minutes:g}分钟内的社区", "Communities within {minutes:g} min walk"),
    "map_uncovered": ("{minutes:g}分钟步行范围外的社区", "Communities beyond {minutes:g} min walk"),
    "map_street_centre": ("街道养老服务中心", "Street elderly-service centre"),
    "map_community_station": ("社区养老服务站", "Community elderly-service station"),
    "map_new_site": ("新选址", "New site"),
    "map_catchment": ("步行{minutes:g}分钟范围", "{minutes:g}-minute walk"),
    "map_size_note": ("圆点大小表示老年人数", "Dot size: number of elders"),
    "map_share": ("覆盖老年人 {share}", "Elders covered: {share}"),
    "map_synthetic": ("合成地理，非真实社区数据", "Synthetic geography, not real communities"),
    "axis_x_km": ("东西向（公里）", "East-west (km)"),
    "axis_y_km": ("南北向（公里）", "North-south (km)"),
}

#: The app's wording (issue 6): levers, units, headline cards, tabs, notes and downloads.
LABELS.update(
    {
        "colon": ("：", ": "),
        "section_run": ("运行设置", "Run settings"),
        "lever_start_year": ("起始年份", "Start year"),
        "lever_years": ("测算年限", "Horizon"),
        "lever_sim_people": ("模拟人数", "Simulated people"),
        "lever_scheme_on": ("实施本项目", "Scheme in force"),
        "lever_starts": ("开始实施年份（{month}月起）", "Starts in year (month {month})"),
        "lever_stops": ("停止实施年份（{month}月起）", "Stops in year (month {month})"),
        "lever_amount": ("补贴标准", "Amount"),
        "lever_amount_level": ("{what}·{level}", "{what} · {level}"),
        "lever_from_date": ("{what}（{date}起）", "{what} (from {date})"),
        "lever_group_on": ("资格组 {group}", "Eligible group {group}"),
        "lever_group_amount": ("{group}：{what}", "{group}: {what}"),
        "lever_delivery_rate": ("实际服务比例", "Delivery rate"),
        "lever_payer_split": ("{a}分担比例（其余由{b}承担）", "{a} share (the rest paid by {b})"),
        "lever_payer_share": ("{level}分担比例", "{level} share"),
        "lever_budget_cap": ("{level}年度预算上限（0＝不设）", "{level} yearly budget cap (0 = none)"),
        "lever_tier": ("日均{min}人次及以上", "{min}+ servings a day"),
        "lever_no_provenance": ("开关（不是数字，无需数据来源）", "a switch (not a figure: needs no source)"),
        "lever_run_setting": (
            "模拟设置（起始年份、测算年限），由使用者选择，不是政策数值",
            "a simulation setting (start year, horizon) chosen by the user, not a policy figure",
        ),
        "lever_cap_none": (
            "政策值：情景文件未规定预算上限（0 表示不设上限）；设定后按政策假设处理",
            "policy value: the file sets no budget cap (0 = none); a cap set here is a policy assumption",
        ),
        "lever_delivery_default": (
            "假设：情景文件未给出实际服务比例，按全部兑现（1.0）计算",
            "assumption: the file gives no delivery rate, so every entitlement is taken as delivered (1.0)",
        ),
        "lever_split_all": (
            "所有方案：{a}分担比例（其余由{b}承担，共 {n} 项）",
            "All schemes: {a} share (the rest paid by {b}; {n} schemes)",
        ),
        "lever_switch_year": (
            "转换年份（一项停止、另一项开始，{month}月起）",
            "Switch-over year (one scheme stops and another starts, from month {month})",
        ),
        "lever_linked_differ": (
            "各方案当前取值不同；移动此项会把它们设为同一值。",
            "The schemes now differ; moving this sets them all to one value.",
        ),
        "lever_changed": ("已修改（文件值：{value}）", "changed (file: {value})"),
        "unit_year": ("年", "year"),
        "unit_years": ("年", "years"),
        "unit_share": ("比例 0–1", "share 0–1"),
        "unit_per_person_month": ("元/人·月", "CNY per person-month"),
        "unit_per_person_once": ("元/人(一次性)", "CNY per person, once"),
        "unit_per_household_once": ("元/户(一次性)", "CNY per household, once"),
        "unit_per_new_bed": ("元/张新建床位", "CNY per new bed"),
        "unit_per_m2": ("元/平方米", "CNY per m²"),
        "unit_per_bed_month": ("元/床·月", "CNY per bed-month"),
        "unit_per_facility_year": ("元/个·年", "CNY per facility-year"),
        "unit_per_carer_year": ("元/人·年", "CNY per carer-year"),
        "unit_wan_per_year": ("万元/年", "10,000 CNY per year"),
        "unit_cny_per_person_year": ("元/人·年", "CNY per person-year"),
        "app_title": ("养老服务补贴测算", "Elderly-care subsidy costing"),
        "app_caption": (
            "选择情景、调整政策参数，查看各级财政逐年支出与照护覆盖。模型：agingsim {version}",
            "Pick a scenario, move the policy levers, see what each level of government pays year by "
            "year and who gets care. Model: agingsim {version}",
        ),
        "app_language": ("语言 / Language", "Language / 语言"),
        "app_scenario": ("情景", "Scenario"),
        "app_upload": ("或上传情景文件（TOML）", "or upload a scenario file (TOML)"),
        "app_uploaded": ("已上传：{name}", "Uploaded: {name}"),
        "app_upload_name": ("{name}（上传：{file} · {digest}）", "{name} (uploaded: {file} · {digest})"),
        "app_upload_refused": (
            "上传的文件 {name} 有误，未采用；页面仍显示下方所选情景。",
            "The uploaded file {name} is invalid and was not used; the page still shows the scenario "
            "selected below.",
        ),
        "region_box": ("自带地区（Excel 工作簿）", "Bring your own region (Excel workbook)"),
        "region_template": (
            "下载地区模板（XLSX，中英文表头）",
            "Download the region template (XLSX, Chinese and English headers)",
        ),
        "region_upload": ("上传填好的地区工作簿（XLSX）", "Upload the filled region workbook (XLSX)"),
        "region_no_link": (
            "上传的地区只保存在本次会话中，不会写入 calibration/regions/，也无法通过页面链接分享；"
            "同事需自行上传同一工作簿。",
            "An uploaded region is kept in this session only: it is not written into calibration/regions/ "
            "and cannot travel in the page's link; a colleague must upload the same workbook.",
        ),
        "region_refused": (
            "地区工作簿 {name} 未通过检查，未导入任何内容；页面仍显示原来所选的情景。问题如下：",
            "The region workbook {name} did not pass the checks and nothing was imported; the page still "
            "shows the scenario selected before. Problems:",
        ),
        "region_policy": ("在 {region} 上运行哪个情景的政策", "Which scenario's policy to run on {region}"),
        "region_files": ("下载导入后的地区文件（zip）", "Download the imported region files (zip)"),
        "region_files_help": (
            "如需长期使用，可把文件放入 calibration/regions/，"
            "或在命令行运行 agingsim region import（地区代码 {id}）。",
            "To keep the region, put these files in calibration/regions/ or run agingsim region import "
            "on the command line (region id {id}).",
        ),
        "region_col_sheet": ("工作表", "Sheet"),
        "region_col_row": ("行", "Row"),
        "region_col_col": ("列", "Column"),
        "region_col_item": ("项目代码", "Item"),
        "region_col_problem": ("问题", "Problem"),
        "app_levers": ("政策参数", "Policy levers"),
        "app_levers_help": (
            "每项参数显示单位及默认值的来源或假设说明。",
            "Each lever shows its unit and the source or assumption behind its default.",
        ),
        "app_reset": ("恢复情景文件的数值", "Reset to the file's values"),
        "app_running": (
            "正在模拟 {people} 位模拟老人，{months} 个月……",
            "Simulating {people} people for {months} months…",
        ),
        "app_ran": ("模拟用时 {s} 秒", "Simulated in {s} s"),
        "app_full_run_why": (
            "本次修改需要重新模拟：它改变了模拟的年份、谁符合资格、老人的照护选择或机构的建设与运营"
            "（只改补贴金额、分担比例、预算上限或起止日期时，直接在同一批老人上重算付款，约快五倍）。",
            "This change needs a full run: it changes the years simulated, who is eligible, people's care "
            "choices or what providers build and run (changing only amounts, payer shares, caps or dates "
            "recomputes the payments on the same people, several times faster).",
        ),
        "app_full_run_levers": (
            "需要重新模拟的修改：{levers}（其余修改只改付款，可在同一批老人上重算）。",
            "Changes that need the full run: {levers} (any other change only alters payments and could "
            "be recomputed on the same people).",
        ),
        "app_full_run_always": (
            "本情景中补贴会改变老人的照护选择（如降低服务价格），因此任何修改都需要重新模拟。",
            "In this scenario the subsidies change people's care choices (they lower the prices people "
            "pay), so every change needs a full run.",
        ),
        "app_cached": ("此设置已运行过，直接显示结果", "This setting was run before: results shown at once"),
        "app_replayed": (
            "只改变了补贴金额等付款参数：在同一批老人、同样的照护与机构上重新计算付款，用时 {s} 秒"
            "（结果与完整重算相同）",
            "Only payment terms changed: payments recomputed on the same people, care and providers in "
            "{s} s (the same result as a full run)",
        ),
        "app_invalid": (
            "输入有误，未运行。以下仍为上一次的结果。",
            "Invalid input: nothing was run. The results below are still the previous ones.",
        ),
        "app_failed": (
            "运行出错，以下仍为上一次的结果：{error}",
            "The run failed; the results below are still the previous ones: {error}",
        ),
        "app_reduced": (
            "为加快响应，本次仅模拟 {n} 人（情景文件为 {full} 人）：每人代表更多老人，抽样误差更大。",
            "For speed this run simulates {n} people (the file says {full}): each stands for more real "
            "people, so sampling noise is larger.",
        ),
        "app_changed": ("已修改 {n} 项参数（相对情景文件）", "{n} lever(s) changed from the file"),
        "app_no_policy": (
            "该情景没有补贴政策（[policy]），因此没有财政支出，只显示人口预测。",
            "This scenario has no [policy], so there is no spending; only the population projection is "
            "shown.",
        ),
        "app_pending": (
            "本次运行没有输出 {file}（由行为模型生成）：此图暂缺。",
            "This run wrote no {file} (made by the behaviour model): chart not available.",
        ),
        "app_replications": ("重复模拟次数（显示90%区间）", "Replications (to show 90% bands)"),
        "app_replicating": ("正在进行 {n} 次重复模拟……", "Running {n} replications…"),
        "card_need_short": ("需要照护人数", "People needing care"),
        "card_served_short": ("获得正式照护的失能老人", "People needing care who get formal care"),
        "card_cost_per_paid": (
            "每位受益人年均支出（测算期）",
            "Spending per person paid for, per year (whole period)",
        ),
        "app_interval_title": (
            "B − A 的90%区间（{n}次配对重复）",
            "B − A with its 90% interval ({n} paired replications)",
        ),
        "app_interval_none": (
            "B − A 的区间：重复模拟次数设为2次及以上即显示"
            "（每次重复两个方案各运行一次，随机数与参数抽样相同）。",
            "B − A's interval: set 2 or more replications to show it (each replication runs both "
            "schemes on the same random numbers and parameter draws).",
        ),
        "app_interval_note": (
            "上表为中心值的单次对比；本表为{n}次配对重复（两方案随机数与参数抽样相同）中"
            " B − A 的中位数与5%–95%分位，区间不含零即差异可与零区分。",
            "The table above is one comparison at the central values; this one is B − A's median and "
            "5th–95th percentile over {n} paired replications (both schemes on the same random numbers "
            "and parameter draws): an interval that excludes 0 is a difference distinguishable from zero.",
        ),
        "app_bands_none": (
            "不确定性区间：本次为单次运行（未做重复模拟），不显示区间。",
            "Uncertainty bands: this is a single run (no replications), so no band is shown.",
        ),
        "delta_none": ("与文件值相同", "same as the file"),
        "card_pv": ("现值 {value}", "present value {value}"),
        "changed_title": (
            "本次修改的影响（与情景文件原值对比）",
            "What your changes do (against the file's own values)",
        ),
        "changed_note": (
            "A＝情景文件原值，B＝修改后；同一批模拟老人、同一随机种子，差额只来自修改的参数。",
            "A = the file's own values, B = with your changes; the same simulated people and seed, so "
            "the difference comes from the changed levers alone.",
        ),
        "changed_total": (
            "测算期总支出差额 B − A：{total}（现值 {pv}）",
            "Total spending difference B − A over the period: {total} (present value {pv})",
        ),
        "table_diff_by_payer": (
            "分级财政支出差额 B − A（万元，按年度）",
            "Difference B − A by level of government (10,000 CNY, by year)",
        ),
        "table_window_subtotal": (
            "预算期小计（{first}–{last}年度）",
            "Budget window subtotal (FY{first}–FY{last})",
        ),
        "table_period_total": ("测算期合计", "Whole period"),
        "card_total": ("测算期总支出（{first}–{last}年度）", "Total spending, FY{first}–FY{last}"),
        "card_year": ("{year}年度支出", "Spending in FY{year}"),
        "card_payer_part": ("{level} {value}", "{level} {value}"),
        "card_served": ("{year}年需要照护者获得服务", "People in need served in {year}"),
        "card_served_share": ("占需要照护者 {share}", "{share} of those in need"),
        "card_paid_for": ("补贴受益人数（月均人次）", "People paid for (monthly average)"),
        "card_cost_per_person": (
            "获服务失能老人人均年支出（测算期）",
            "Spending per person in need served, per year (whole period)",
        ),
        "card_people": ("{year}年末60岁及以上人口", "People 60+ at the end of {year}"),
        "card_people_first": ("{year}年初 {value}", "start of {year}: {value}"),
        "card_need": ("{year}年末需要照护（中度及以上失能）", "Needing care (moderate+), end of {year}"),
        "fiscal_year": ("{year}年度", "FY{year}"),
        "tab_costs": ("财政支出", "Spending"),
        "tab_coverage": ("照护覆盖", "Coverage"),
        "tab_capacity": ("床位与轮候", "Beds and waiting"),
        "tab_groups": ("资格组受益", "Groups served"),
        "tab_population": ("人口", "Population"),
        "tab_circle": ("15分钟养老服务圈", "15-minute service circle"),
        "circle_year": ("年份", "Year"),
        "circle_caption": (
            "社区圆点按老年人数大小绘制，实心表示步行{minutes}分钟内有开放的街道中心或社区站；浅蓝圆为各设施的步行范围。"
            "下表为各区县及全域在范围内的老年人占比。",
            "Communities sized by their elders, filled where an open street centre or community station is "
            "within a {minutes}-minute walk; pale circles are each facility's reach. The table gives the "
            "shares of elders within reach by county and for the region.",
        ),
        "tab_compare": ("方案对比", "Compare"),
        "tab_downloads": ("下载", "Downloads"),
        "tab_who": ("谁受益、谁受损", "Who gains, who loses"),
        "who_by": ("分组方式", "Group by"),
        "who_dist_title": ("按{by}：人数、支出与人均", "By {by}: people, spending and spending per head"),
        "who_dist_note": (
            "按老人的区县、年龄组、能力等级、经济状况和城乡分组（测算期内年均人数、支出合计）。"
            "逐月按每位老人所在的规则格子计算，一次性补贴按实际领取的老人计入其所在组，支出合计等于台账中的个人补贴项目。",
            "People grouped by county, age band, ability level, economic status and urban/rural (people are "
            "yearly averages, spending the total over the period). Worked out month by month from the cells "
            "of people the schemes pay, one-off payments from the people paid them, so spending adds up to "
            "the ledger's person-level lines.",
        ),
        "who_lines_title": (
            "按{by}和补贴项目：享受资格与获发放人数",
            "By {by} and subsidy line: entitled and paid for",
        ),
        "who_gains_title": (
            "B 相对 A：谁获得、谁失去享受资格（{a} → {b}）",
            "B against A: who gains and who loses an entitlement ({a} → {b})",
        ),
        "who_gains_note_bins": (
            "两方案为同一批模拟老人（共同随机数），逐月逐格比较："
            "在 A 中有资格、在 B 中没有的人数计为“失去”，反之计为“获得”（月均人数）。"
            "“人均月发放变化”为该组每位60岁及以上老人每月平均所得的变化（B − A）。",
            "Both schemes run on the same simulated people (common random numbers) and are compared month by "
            "month, cell by cell: people entitled under A but not B lose, under B but not A gain (monthly "
            "averages). The payment change is the change in the average monthly payment per person 60+ of "
            "the group (B − A).",
        ),
        "who_gains_note_groups": (
            "B 单独运行（同一随机种子），两方案中老人所在格子可能不同，故按组逐月比较："
            "失去 = max(0, A − B)，获得 = max(0, B − A)；"
            "同一组内有人获得、有人失去时相互抵消。",
            "B was run on its own (same seed), so people may sit in other cells than under A: each group is "
            "compared month by month as a whole, losing = max(0, A − B) and gaining = max(0, B − A); where "
            "some people of a group gain and others lose, they offset.",
        ),
        "who_gains_none": (
            "与 A 相比，没有人获得或失去任何补贴资格，支出也无变化。",
            "No one gains or loses any entitlement against A, and no spending changes.",
        ),
        "who_gains_pick": (
            "修改参数或在侧栏选择对比方案 B 后，此处显示谁获得、谁失去享受资格。",
            "Change a lever or pick a scheme B in the sidebar to see who gains and who loses an entitlement.",
        ),
        "who_gains_unavailable": ("无法比较：{why}", "Cannot compare: {why}"),
        "who_gains_other_months": ("两方案的测算年份不同", "A and B cover different years"),
        "who_gains_other_counties": ("两方案的区县不同", "A and B have different counties"),
        "who_no_record": (
            "本次运行未记录分组数据（无按月发放的个人补贴）。",
            "This run has no group data (no person-level scheme paid monthly).",
        ),
        "who_recording": (
            "按人群分组需要再算一次（同一情景与随机种子，结果相同）……",
            "Grouping needs one more run (same scenario and seed, the same results)…",
        ),
        "who_file_values": ("情景文件原值", "the file's own values"),
        "who_your_changes": ("修改后的参数", "your changes"),
        "title_who_per_head": ("按{by}：60岁及以上人均年支出", "Spending per person 60+ per year, by {by}"),
        "title_who_gains": (
            "按{by}：获得与失去享受资格的人数（B 相对 A）",
            "People gaining and losing an entitlement, by {by} (B vs A)",
        ),
        "legend_gaining": ("获得资格", "Gain an entitlement"),
        "legend_losing": ("失去资格", "Lose an entitlement"),
        "sheet_who": ("分组受益", "Who gets what"),
        "who_county": ("按区县（居住地）", "By county (where people live)"),
        "who_group": ("按补贴项目与资格组", "By scheme and eligible group"),
        "who_note": (
            "支出按老人居住的区县和所属资格组汇总，合计等于测算期总支出；修改参数后另列与情景文件原值相比的变化。",
            "Spending by the county people live in and by eligible group; each table adds up to the total "
            "spending. After a lever change, the change against the file's own values is shown too.",
        ),
        "tab_assumptions": ("参数与来源", "Assumptions"),
        "table_by_payer": ("分级财政支出（万元）", "Spending by level of government (10,000 CNY)"),
        "col_eligible": ("符合条件人数", "Eligible"),
        "col_served": ("获得服务人数", "Served"),
        "col_group": ("资格组", "Group"),
        "col_scheme": ("补贴项目", "Scheme"),
        "compare_with": ("对比方案 B", "Compare with scheme B"),
        "compare_none": ("不对比", "No comparison"),
        "compare_file": ("情景文件原值（不含参数修改）", "The file's own values (no lever changes)"),
        "compare_same_region": ("B 使用 A 的地区与人口", "Run B on A's region and people"),
        "compare_names": ("A：{a}　　B：{b}", "A: {a}    B: {b}"),
        "compare_population_differs": (
            "两个方案的人口不同（地区或起始年份不同），差异中包含人口因素。",
            "The two schemes build different populations (region or start year differ): the "
            "differences include demography.",
        ),
        "compare_colours": (
            "绿色：B 优于 A（支出更少、服务人数更多、轮候更少）；红色：B 劣于 A；无色：无差异或无优劣之分。",
            "Green: B is better than A (less spending, more people served, fewer waiting); red: worse; "
            "no colour: no difference, or neither is better.",
        ),
        "compare_pick": ("在侧栏选择对比方案 B。", "Pick scheme B in the sidebar to compare."),
        "points": ("{d} 个百分点", "{d} pt"),  # a difference of two shares, in percentage points
        "dl_toml": ("下载本情景文件（TOML，含修改）", "Download this scenario (TOML, with your changes)"),
        "dl_toml_help": (
            '修改过的数值标注为 assumption = "set in the app: …"，并注明文件原值；可直接上传或用命令行运行。',
            'Changed values are labelled assumption = "set in the app: …" with the file\'s value; the file '
            "can be uploaded again or run with the command line.",
        ),
        "dl_csv_chinese": (
            "CSV 表头用中文（文件均为带 BOM 的 UTF-8，Excel 可直接打开）",
            "Chinese column headers in the CSVs (every file is UTF-8 with a BOM, for Excel)",
        ),
        "dl_csv": ("结果数据（CSV，zip）", "Results (CSV files, zip)"),
        "dl_xlsx": ("工作簿（XLSX）", "Workbook (XLSX)"),
        "dl_pptx": ("一键生成简报（PPTX）", "Briefing deck (PPTX)"),
        "dl_charts": ("全部图表（PNG 300 dpi + SVG，zip）", "All charts (PNG 300 dpi + SVG, zip)"),
        "dl_compare": ("对比结果（CSV，zip）", "Comparison (CSV files, zip)"),
        "dl_compare_xlsx": ("对比工作簿（XLSX）", "Comparison workbook (XLSX)"),
        "dl_compare_pptx": (
            "对比简报（PPTX，含 A、B 对比与差额分解）",
            "Comparison deck (PPTX, A vs B and the waterfall)",
        ),
        "dl_circle_csv": ("服务圈覆盖表（CSV）", "Service circle table (CSV)"),
        "dl_note": (
            "图表与文件由与命令行 agingsim report 相同的模块生成。",
            "Charts and files come from the same module as the command line's agingsim report.",
        ),
    }
)

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
    "family_care": ("家庭照护", "Family care"),
    "home_services": ("居家上门服务", "Home services"),
    "family_bed": ("家庭养老床位", "Family elderly bed"),
    "day_care": ("社区日间照料", "Community day care"),
    "institution": ("机构养老", "Institution"),
    "unserved": ("未获服务", "Not served"),
}
#: comparison.csv measures; cost_<level>_wan are built from PAYER_LEVELS.
MEASURES: dict[str, tuple[str, str]] = {
    "cost_total_wan": ("总支出（万元）", "Total spending (10,000 CNY)"),
    "cost_present_value_wan": ("总支出现值（万元）", "Present value of spending (10,000 CNY)"),
    "people_served_per_month": ("月均受益人数（人次）", "People paid for per month"),
    "cost_per_person_served_cny_per_year": (
        "每位受益人年均支出（元）",
        "Spending per person paid for (CNY/year)",
    ),
    "cost_per_person_in_need_served_cny_per_year": (
        "每位获服务失能老人年均支出（元）",
        "Spending per person in need served (CNY/year)",
    ),
    "needing_care": ("需要照护人数（中度及以上失能）", "People needing care (moderate+)"),
    "needing_care_served": ("获得正式照护的失能老人", "People needing care who get formal care"),
    "needing_care_served_share": ("需要照护者获服务比例", "Share of those in need served"),
    "beds": ("养老床位（张）", "Care beds"),
    "bed_occupancy": ("床位入住率", "Bed occupancy"),
    "waiting_for_a_bed": ("轮候床位人数", "People waiting for a bed"),
    "unmet_carer_hours_per_month": ("每月未满足的护理工时", "Unmet carer hours per month"),
    **{
        f"cost_{level}_wan": (f"{zh}支出（万元）", f"{en} spending (10,000 CNY)")
        for level, (zh, en) in PAYER_LEVELS.items()
    },
}
#: Measures drawn as a median and 90% band by year (a sweep's runs, a run's replications), by
#: column; only columns present with values are drawn. Their axes: :data:`BAND_AXES`.
BAND_MEASURES: dict[str, tuple[str, str]] = {
    "cost_total_wan": ("财政支出合计", "Total public spending"),
    "cost_city_wan": ("市级支出", "City spending"),
    "cost_county_wan": ("县级支出", "County spending"),
    "cost_province_wan": ("省级支出", "Provincial spending"),
    "needing_care": ("需要照护人数（中度及以上失能）", "People needing care (moderate+)"),
    "needing_care_served": ("获得正式照护的失能老人", "People needing care who get formal care"),
    "people_60plus": ("60岁及以上人口", "People aged 60+"),
}
#: The label key of each band measure's axis (its unit).
BAND_AXES: dict[str, str] = {
    "cost_total_wan": "axis_cost_wan",
    "cost_city_wan": "axis_cost_wan",
    "cost_county_wan": "axis_cost_wan",
    "cost_province_wan": "axis_cost_wan",
    "needing_care": "axis_people",
    "needing_care_served": "axis_people",
    "people_60plus": "axis_people",
}
#: Which way is better for a measure (colours of a difference): "lower", "higher", or absent (neither:
#: more people needing care is not a policy's success or failure, occupancy is a trade-off).
BETTER: dict[str, str] = {
    "cost_total_wan": "lower",
    "cost_present_value_wan": "lower",
    "cost_per_person_served_cny_per_year": "lower",
    "cost_per_person_in_need_served_cny_per_year": "lower",
    "people_served_per_month": "higher",
    "needing_care_served": "higher",
    "needing_care_served_share": "higher",
    "beds": "higher",
    "waiting_for_a_bed": "lower",
    "unmet_carer_hours_per_month": "lower",
    **{f"cost_{level}_wan": "lower" for level in PAYER_LEVELS},
}
#: Column headers of the tables the page, workbook and CSVs show (output column → words).
COLUMNS: dict[str, tuple[str, str]] = {
    "year": ("年度", "Fiscal year"),
    "month": ("月份", "Month"),
    "county": ("区县", "County"),
    "area": ("地区", "Area"),
    "level": ("层级", "Level"),
    "line_item": ("补贴项目", "Subsidy line"),
    "rule": ("资格组/规则", "Group or rule"),
    "scheme_family": ("补贴类别", "Kind of subsidy"),
    "payer_level": ("出资层级", "Paid by"),
    "payer_region": ("出资地区", "Paying region"),
    "funding": ("资金来源", "Funding"),
    "amount_cny": ("金额（元）", "Amount (CNY)"),
    "beneficiaries": ("受益人次", "Beneficiaries"),
    "priority_group": ("优先类别", "Priority group"),
    "arrivals": ("新增申请", "New applicants"),
    "admissions": ("入住", "Admitted"),
    "left": ("离开轮候", "Left the queue"),
    "still_waiting": ("仍在轮候", "Still waiting"),
    "mean_wait_months": ("平均轮候（月）", "Mean wait (months)"),
    "communities": ("社区数", "Communities"),
    "elders": ("老年人数", "Older people"),
    "elders_need": ("需要照护老人数", "Older people needing care"),
    "share_within_street_centre": ("步行可达街道中心比例", "Share within walk of a street centre"),
    "share_need_within_street_centre": (
        "需照护者可达街道中心比例",
        "Share of those in need within walk of a street centre",
    ),
    "share_within_community_station": ("步行可达社区站比例", "Share within walk of a community station"),
    "share_need_within_community_station": (
        "需照护者可达社区站比例",
        "Share of those in need within walk of a community station",
    ),
    "share_within_any": ("步行可达任一设施比例", "Share within walk of any centre"),
    "share_need_within_any": ("需照护者可达任一设施比例", "Share of those in need within walk of any centre"),
    "scheme": ("补贴项目", "Scheme"),
    "group": ("资格组", "Eligible group"),
    "eligible": ("符合条件人数", "Eligible"),
    "served": ("获服务人数", "Served"),
    "measure": ("指标", "Measure"),
    "spending_wan": ("测算期支出（万元）", "Spending over the period (10,000 CNY)"),
    "spending_change_wan": ("支出变化 B − A（万元）", "Change in spending B − A (10,000 CNY)"),
    "people_60plus": ("60岁及以上人口（年均）", "People 60+ (yearly average)"),
    "needing_care": ("需要照护人数（年均）", "People needing care (yearly average)"),
    "beneficiaries_per_month": ("月均受益人次", "People paid for per month"),
    "spending_per_person_60plus_cny": (
        "60岁及以上人均年支出（元）",
        "Spending per person 60+ per year (CNY)",
    ),
    "spending_per_person_paid_cny": (
        "每位受益人年均支出（元）",
        "Spending per person paid for per year (CNY)",
    ),
    "age_band": ("年龄组", "Age band"),
    "ability_level": ("能力等级", "Ability level"),
    "econ_status": ("经济状况", "Economic status"),
    "residence": ("城乡", "Urban / rural"),
    "dimension": ("分组方式", "Grouped by"),
    "people": ("人数（年均）", "People (yearly average)"),
    "entitled": ("享受资格人数（月均）", "Entitled (monthly average)"),
    "entitled_a": ("A 享受资格人数（月均）", "Entitled under A (monthly average)"),
    "entitled_b": ("B 享受资格人数（月均）", "Entitled under B (monthly average)"),
    "losing": ("失去资格人数（月均）", "Losing the entitlement (monthly average)"),
    "gaining": ("获得资格人数（月均）", "Gaining the entitlement (monthly average)"),
    "payment_change_cny_per_head_month": (
        "人均月发放变化 B − A（元）",
        "Change in monthly payment per head B − A (CNY)",
    ),
    "spending_per_person_cny": ("60岁及以上人均年支出（元）", "Spending per person 60+ per year (CNY)"),
    "spending_cny": ("支出（元）", "Spending (CNY)"),
    "spending_a_cny": ("A 支出（元）", "Spending under A (CNY)"),
    "spending_b_cny": ("B 支出（元）", "Spending under B (CNY)"),
    **{
        f"{level}_cny": (f"{zh}支出（元）", f"{en} spending (CNY)")
        for level, (zh, en) in PAYER_LEVELS.items()
    },
    "a": ("方案 A", "Scheme A"),
    "b": ("方案 B", "Scheme B"),
    "b_minus_a": ("B − A", "B − A"),
}
#: 经济状况 (population.attributes.ECON_STATUSES).
ECON: dict[str, tuple[str, str]] = {
    "tekun_centralised": ("特困（集中供养）", "Extreme poverty (in a support home)"),
    "tekun_dispersed": ("特困（分散供养）", "Extreme poverty (at home)"),
    "dibao": ("低保", "Minimum living allowance (dibao)"),
    "near_dibao": ("低保边缘", "Near the dibao line"),
    "ordinary": ("普通", "Ordinary"),
}
RESIDENCE: dict[str, tuple[str, str]] = {"urban": ("城镇", "Urban"), "rural": ("农村", "Rural")}
#: Admission priority groups (services/admission.py, seed 002's order of precedence).
PRIORITY_GROUPS: dict[str, tuple[str, str]] = {
    "policy_guaranteed": ("特困等兜底保障对象", "Guaranteed by policy (extreme poverty, dibao)"),
    "difficult_disabled_alone": ("经济困难的失能、独居老人", "Low-income, disabled or living alone"),
    "advanced_age_80": ("80岁及以上高龄老人", "Aged 80 and over"),
    "family_planning_special": ("计划生育特殊家庭老人", "Family-planning special families"),
    "veterans_and_merit": ("优抚对象", "Veterans and people of merit"),
    "others": ("其他老人", "Others"),
}
#: Area levels of the service-circle table.
AREA_LEVELS: dict[str, tuple[str, str]] = {
    "county": ("区县", "County"),
    "city": ("全市", "Whole city"),
    "region": ("全地区", "Whole region"),
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


def column_label(column: str, lang: Lang) -> str:
    return _lookup(COLUMNS, column, lang)


def econ_label(status: str, lang: Lang) -> str:
    return _lookup(ECON, status, lang)


def residence_label(residence: str, lang: Lang) -> str:
    return _lookup(RESIDENCE, residence, lang)


def priority_label(group: str, lang: Lang) -> str:
    return _lookup(PRIORITY_GROUPS, group, lang)


def fiscal_period(first_year: int, years: int) -> tuple[int, int]:
    """The one horizon convention: a run of ``years`` from 1 January ``first_year`` covers fiscal
    years first_year … first_year + years − 1 (China's fiscal year is the calendar year); stocks
    are given at the start of the first and the end of the last of them."""
    return first_year, first_year + years - 1


def stock_when(dated: int, first: int, lang: Lang) -> str:
    """When a stock dated 1 January ``dated`` stands, in a run starting 1 January ``first``: the start
    of the first fiscal year, else the end of the year before (``2034年末``, not ``2035年``)."""
    if dated <= first:
        return label("stock_start", lang, year=dated)
    return label("stock_end", lang, year=dated - 1)


def both(text: Callable[[Lang], str]) -> str:
    """A terminal phrase in Chinese then English (the CLI prints both languages on one line)."""
    return f"{text('zh')} {text('en')}"


def period_label(first: int, last: int, lang: Lang) -> str:
    """``2024–2033年度`` / ``FY2024–FY2033``: fiscal years, both ends included."""
    return label("period", lang, first=first, last=last)


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


#: From this many 万元 a card shows 亿元 (1 亿元 = 10,000 万元) so that its number fits on a card.
YI_FROM_WAN = 100_000


def fmt_money(wan: float, lang: Lang, like: float | None = None) -> str:
    """An amount for a headline card: 万元 with two decimals, or 亿元 (billions of CNY in English)
    once it is large enough that 万元 would not fit. With ``like``, in the unit ``like`` would get
    (a card's parts in its figure's unit, so they visibly add up to it)."""
    if abs(wan if like is None else like) >= YI_FROM_WAN:
        yi = wan / 10_000
        return f"{fmt_number(yi, 2)} 亿元" if lang == "zh" else f"{fmt_number(yi / 10, 2)} bn CNY"
    return f"{fmt_wan(wan)} {label('unit_wan', lang)}"


def fmt_wan(x: float) -> str:
    """An amount in 万元 with two decimals (the precision of ledger_by_payer.csv)."""
    return fmt_number(x, 2)
