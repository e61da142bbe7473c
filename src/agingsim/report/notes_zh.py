"""Chinese texts of the scenario files' English ``assumption`` labels, for a Chinese deck and page.

Why a table keyed by the English text rather than an ``assumption_zh`` beside each label: a
translation that no longer matches its English (the label was edited) stops applying by itself and
the text is then shown in English with a visible "(English only)" mark, so a Chinese deck never
shows a stale translation; and the run outputs (assumptions.csv) and the label parser stay as they
are. Sources are citations (document, table, year) and are shown as written.

Coverage: the assumption labels that reach the deck's key-parameters slide for the two headline
briefing scenarios (Guiyang's service circle, Zhumadian's basic services). Every other label shows in
English, marked. To add one: copy the English text exactly (``assumptions.csv``, column ``text``).
"""

from __future__ import annotations

from agingsim.report.labels import Lang
from agingsim.report.problems import ENGLISH_ONLY

#: Put before an English text shown where Chinese is wanted (a slide may cut a long text's end).
ENGLISH_ONLY_MARK = ENGLISH_ONLY[0]

NOTES_ZH: dict[str, str] = {
    # the label of every value changed in the app (agingsim.app.sources.APP_LABEL)
    "changed in the agingsim app": "在 agingsim 应用中修改",
    # guiyang_service_circle.toml
    "seed 002 三(七) pays 600 / 1000 / 1500 / 3000 / 5000 CNY per year in post by certificate level "
    "(初级 … 高级技师); the certificate mix is not known: an average of 1,000 CNY per carer-year is "
    "assumed": "种子文件 002 三(七) 按职业技能等级（初级……高级技师）每人每年在岗补贴 600 / 1000 / 1500 / "
    "3000 / 5000 元；各等级人数构成不详，假设平均每名护理员每年 1,000 元",
    "per family bed a month: 1.5 × the seed's 200 CNY per centre bed a month (三(四)), as a family bed "
    "adds the operator's home visits; no figure in the seed": "家庭养老床位每张每月：种子文件中心床位每张"
    "每月 200 元（三(四)）的 1.5 倍，因家庭床位另含运营方上门服务；种子文件无此数字",
    "cost per trainee (a short skills course, tuition and materials); the seed gives no cost": "每名培训"
    "学员的费用（短期技能培训的学费与教材）；种子文件未给出费用",
    # zhumadian_basic_services.toml
    "Zhumadian's standard is in the missing city list (000-1-1). Assumed a flat 100 CNY per person per "
    "month, a stated round number (half of the lowest Tianjin 2017 home-care tier, 200 CNY, "
    "calibration/data/tianjin_subsidy_standards.csv, for a prefecture with lower incomes)": "驻马店的标准"
    "在缺失的市级清单中（000-1-1）。假设每人每月统一 100 元，为注明的整数（天津 2017 年居家养老补贴最低档 "
    "200 元的一半，calibration/data/tianjin_subsidy_standards.csv，因地级市收入较低）",
    "Zhumadian's standard is in the missing city list (000-1-1). Assumed half of Tianjin's 2017 home-care "
    "subsidy by level (mild / moderate / severe 200 / 400 / 600 CNY per month, "
    "calibration/data/tianjin_subsidy_standards.csv) for a prefecture with lower incomes; complete loss "
    "as severe": "驻马店的标准在缺失的市级清单中（000-1-1）。假设为天津 2017 年按等级居家养老补贴（轻度 / "
    "中度 / 重度每月 200 / 400 / 600 元，calibration/data/tianjin_subsidy_standards.csv）的一半，因地级市"
    "收入较低；完全失能按重度",
    "one visit per month (the seed's minimum, 000-4-1) at an assumed 30 CNY per visit, a stated round "
    "number (about two hours of a public-welfare post or purchased-service worker, home visit or "
    "phone/video); the seed gives no cost (docs/seed_clauses.md, missing figure 25)": "每月探访一次（种子"
    "文件的最低要求，000-4-1），假设每次 30 元，为注明的整数（约为公益岗位或购买服务人员两小时，上门或电话/"
    "视频）；种子文件未给出费用（docs/seed_clauses.md 缺失数字 25）",
    "one-off subsidy assumed 3,000 CNY per household (a stated round number; the seed gives none, "
    "docs/seed_clauses.md missing figure 8)": "一次性补贴假设每户 3,000 元（注明的整数；种子文件未给出，"
    "docs/seed_clauses.md 缺失数字 8）",
    "basic living 585 CNY a month = 1.3 × an assumed Zhumadian dibao standard of 450 (the 1.3 multiple: "
    "calibration/data/tekun_support_rules.csv, Guizhou 2017; Henan's standard not found) + care by grade "
    "at 4% / 30% / 50% (self-care = intact, mild; half care = moderate; full care = severe, complete: an "
    "assumed mapping) of an assumed monthly minimum wage of 1,800 CNY (shares: "
    "calibration/data/tekun_support_rules.csv, Chizhou 2023)": "基本生活标准每月 585 元 = 假设的驻马店"
    "低保标准 450 元 × 1.3（1.3 倍：calibration/data/tekun_support_rules.csv，贵州 2017；未找到河南标准）"
    "+ 按照护等级的照料护理标准，为假设的月最低工资 1,800 元的 4% / 30% / 50%（全自理 = 能力完好、轻度；"
    "半护理 = 中度；全护理 = 重度、完全失能，为假设的对应关系；比例：calibration/data/"
    "tekun_support_rules.csv，池州 2023）",
    "basic living 585 as for the centralised + care at 3% / 20% / 35% of the assumed 1,800 CNY minimum "
    "wage (calibration/data/tekun_support_rules.csv, Chizhou 2023)": "基本生活标准 585 元，与集中供养相同"
    "+ 照料护理标准为假设的最低工资 1,800 元的 3% / 20% / 35%（calibration/data/tekun_support_rules.csv，"
    "池州 2023）",
    "staff, utilities and upkeep not covered by the support standard: assumed 500 CNY per resident a "
    "month (about a quarter of a carer's wage per resident at one carer per three residents and the "
    "assumed 1,800 CNY minimum wage, minus the care standard); no figure in the seed": "供养标准未覆盖的"
    "人员、水电和维护费用：假设每名入住者每月 500 元（按一名护理员照护三名入住者、假设最低工资 1,800 元，"
    "每名入住者约四分之一名护理员的工资，扣除照料护理标准）；种子文件无此数字",
    "no split in seed 000 (000-8-1 only puts basic-service funding in budgets 'as required'). City : "
    "county 1 : 1 as in seed 004 五(二) and Tianjin's 2017 home-care subsidy "
    "(calibration/data/tianjin_subsidy_standards.csv); Henan provincial transfers not modelled": "种子文件 "
    "000 未给出分担比例（000-8-1 只要求“按规定”将基本养老服务经费列入预算）。市 : 县 = 1 : 1，同种子文件 "
    "004 五(二) 和天津 2017 年居家养老补贴（calibration/data/tianjin_subsidy_standards.csv）；未模拟河南"
    "省级转移支付",
    "no split in seed 000; city : county 1 : 1 as for the service subsidy": "种子文件 000 未给出分担比例；"
    "市 : 县 = 1 : 1，与服务补贴相同",
    "visits are organised by county/street platforms and public-welfare posts (000-4-1); assumed paid "
    "wholly by the county": "探访由县级/街道平台和公益岗位组织（000-4-1）；假设全部由县级支付",
    "'政府补贴' with no split in the seed; city : county 1 : 1 as for the other schemes": "种子文件只写"
    "“政府补贴”，未给出分担比例；市 : 县 = 1 : 1，与其他项目相同",
    "特困 support is a county responsibility with city (and provincial) transfers; 3 : 7 assumed, "
    "Henan's transfers not modelled": "特困供养由县级负责，市级（及省级）转移支付补助；假设 3 : 7，"
    "未模拟河南的转移支付",
    "county and township homes are run by the county": "县、乡特困供养服务设施由县级运营",
    "000-4-1 mandates at least one visit a month for everyone in these groups: full coverage assumed; "
    "lower it to model a shortfall": "000-4-1 要求对这些群体每月至少探访一次：假设全覆盖；如需模拟覆盖"
    "不足，可调低此值",
    "an existing entitlement, costed from the start": "现行待遇，从测算起始时起计算费用",
    "in force throughout": "整个测算期内有效",
    "home adaptation is commonly financed from welfare-lottery funds; half assumed": "适老化改造通常由福彩"
    "公益金资助；假设一半",
}


def assumption_note(text: str, kind: str, lang: Lang) -> str:
    """An assumption label's text in ``lang``: the Chinese where the table has it, else the English
    marked "(English only)"; sources (citations) and English pages as written."""
    if lang != "zh" or kind != "assumption":
        return text
    zh = NOTES_ZH.get(text.strip())
    return zh if zh is not None else ENGLISH_ONLY_MARK + text
