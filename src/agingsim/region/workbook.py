"""The region workbook: which sheets and columns a user fills to bring their own region.

Why one definition: the template writer and the importer both read these tables, so a column's
header, unit, example and range are stated once and cannot drift apart.

Layout of every table sheet (a spreadsheet user sees the first four rows as a header block)::

    row 1  中文列名                       (Chinese header)
    row 2  machine key, e.g. ``people``  (English header; the importer finds columns by it)
    row 3  单位 unit / rule
    row 4  示例 example                   (ignored on import)
    row 5+ the user's rows

A fields sheet (``地区 Region``, ``床位 Beds``) has one row per field instead: its key in column B,
the value in column C and the source in column F.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["int", "number", "share", "text", "id", "sex", "date", "choice"]

#: Rows of a table sheet before the user's data (header zh, header en, unit, example).
HEADER_ROWS = 4
FIRST_DATA_ROW = HEADER_ROWS + 1
#: Rows of a fields sheet before the first field (header zh, header en).
FIELD_HEADER_ROWS = 2
#: Column letters of a fields sheet.
FIELD_COLUMNS = {"label": "A", "key": "B", "value": "C", "unit": "D", "note": "E", "source": "F"}
#: A source cell starting with one of these is written as an ``assumption`` label, not a ``source``.
ASSUMPTION_PREFIXES = ("assumption:", "assumption：", "假设:", "假设：")
#: Sex codes accepted in the population sheet, mapped to the model's M / F.
SEX_INPUT = {"M": "M", "F": "F", "男": "M", "女": "F", "m": "M", "f": "F"}


@dataclass(frozen=True)
class Column:
    """One column of a table sheet, or one row of a fields sheet."""

    key: str
    zh: str
    en: str
    unit: str
    example: object
    kind: Kind
    required: bool = True
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Sheet:
    """A sheet of the workbook: a table (one row per record) or fields (one row per setting)."""

    name: str
    form: Literal["table", "fields"]
    columns: tuple[Column, ...]
    required: bool = True
    #: a short bilingual line shown in the README sheet
    purpose: str = ""

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


SOURCE = Column(
    "source",
    "来源",
    "Source",
    "文件、表号、年份；无出处写“假设: 理由” / document, table, year; or 'assumption: reasoning'",
    "第七次全国人口普查 长表 表1-7 (2020) / 7th census long table 1-7 (2020)",
    "text",
)

REGION = Sheet(
    "地区 Region",
    "fields",
    (
        Column("name", "地区名称", "Region name (Chinese)", "文字 text", "某某县", "text"),
        Column(
            "name_en", "英文名称", "Region name (English)", "文字 text", "Mou County", "text", required=False
        ),
        Column("province", "所属省份", "Province", "文字 text", "某某省", "text", required=False),
        Column(
            "city",
            "支付“市级”份额的城市代码",
            "City paying 'city' shares",
            "小写字母/数字/下划线 a-z 0-9 _",
            "moushi",
            "id",
            required=False,
            note="留空 = 本地区 / empty: this region",
        ),
        Column(
            "units_are",
            "下级单位类型",
            "What the sub-units are",
            "county 或 city",
            "county",
            "choice",
            required=False,
            choices=("county", "city"),
            note="区县 county (默认 default) 或地级市 city",
        ),
        Column(
            "reference_date",
            "人口数据时点",
            "Population reference date",
            "日期 date (YYYY-MM-DD)",
            "2020-11-01",
            "date",
            note="普查为 2020-11-01 零时 / the 2020 census counts people at 0:00 on 1 November 2020",
        ),
        Column(
            "net_migration_rate",
            "40–59岁年净迁移率",
            "Net migration rate, ages 40–59",
            "每年占该人群比例 share per year (-0.1…0.1)",
            0.0,
            "number",
            required=False,
            lo=-0.1,
            hi=0.1,
            note="留空 = 0 / empty: no migration",
        ),
    ),
    purpose="地区名称、人口数据时点 / region name and the date the population counts refer to",
)

POPULATION = Sheet(
    "人口 Population",
    "table",
    (
        Column("age_lower", "起始年龄", "Age from", "岁 years (0–130)", 60, "int", lo=0, hi=130),
        Column(
            "age_upper",
            "截止年龄(含)",
            "Age to (inclusive)",
            "岁 years; 单岁与起始相同; 最高组留空 = 及以上 / "
            "same as 'from' for one year; empty for the open top group",
            64,
            "int",
            required=False,
            lo=0,
            hi=130,
        ),
        Column("sex", "性别", "Sex", "M 男 / F 女", "M", "sex"),
        Column("people", "人数", "People", "人 persons (不是万人 not 10,000s)", 35210, "number", lo=0),
        SOURCE,
    ),
    purpose=(
        "按单岁或5岁组、性别的人口, 须含40岁及以上 / people by single year or 5-year group and sex, "
        "from age 40 or younger"
    ),
)

COUNTIES = Sheet(
    "区县 Counties",
    "table",
    (
        Column("id", "代码", "Id", "小写字母/数字/下划线, 不重复 / a-z 0-9 _, unique", "chengguan", "id"),
        Column("name", "名称", "Name", "文字 text", "城关镇", "text"),
        Column("name_en", "英文名称", "Name (English)", "文字 text", "Chengguan", "text", required=False),
        Column(
            "share_60plus",
            "占全地区60岁及以上人口比例",
            "Share of the region's 60+",
            "比例 0–1, 合计 = 1 / share 0–1, summing to 1",
            0.35,
            "share",
            lo=0,
            hi=1,
        ),
        Column(
            "urban_share",
            "60岁及以上中城镇人口比例",
            "Urban share of its 60+",
            "比例 share 0–1",
            0.6,
            "share",
            lo=0,
            hi=1,
        ),
        Column(
            "ltc_insured_share",
            "60岁及以上长护险参保比例",
            "Share of its 60+ enrolled in LTC insurance",
            "比例 share 0–1; 无长护险留空 / empty if no LTC insurance",
            0.0,
            "share",
            required=False,
            lo=0,
            hi=1,
        ),
        SOURCE,
    ),
    purpose="下辖区县(或地级市)及其比例 / the sub-units (counties/districts, or cities) and their shares",
)

#: Economic-status categories as the model codes them (agingsim.population.attributes.ECON_STATUSES).
ECON_ROWS: tuple[tuple[str, str, str], ...] = (
    ("tekun_centralised", "特困人员(集中供养)", "Special hardship, living in an institution"),
    ("tekun_dispersed", "特困人员(分散供养)", "Special hardship, living at home"),
    ("dibao", "低保对象", "Minimum-living-allowance recipients"),
    ("near_dibao", "低保边缘", "Near-dibao (low-income margin)"),
)

ECON = Sheet(
    "经济状况 Economic status",
    "fields",
    tuple(
        Column(
            key,
            zh,
            en,
            "60岁及以上人数 persons aged 60+",
            example,
            "number",
            required=False,
            lo=0,
        )
        for (key, zh, en), example in zip(ECON_ROWS, (420, 1310, 6800, 3100), strict=True)
    ),
    required=False,
    purpose=(
        "可选: 60岁及以上特困/低保/低保边缘人数; 四项全填或全空 / optional: people 60+ by economic "
        "status; fill all four or none"
    ),
)

BEDS = Sheet(
    "床位 Beds",
    "fields",
    (
        Column(
            "institution_beds",
            "养老机构床位数",
            "Beds in elderly-care institutions",
            "张 beds",
            1200,
            "number",
            required=False,
            lo=0,
            note="注册养老机构(含特困供养机构) / registered institutions incl. 特困 homes",
        ),
        Column(
            "public_beds",
            "其中公办床位",
            "of which publicly run",
            "张 beds (≤ 机构床位 institution beds)",
            500,
            "number",
            required=False,
            lo=0,
        ),
        Column(
            "nursing_beds",
            "其中护理型床位",
            "of which nursing-type",
            "张 beds (≤ 机构床位 institution beds)",
            700,
            "number",
            required=False,
            lo=0,
        ),
        Column(
            "day_care_places",
            "社区养老服务设施床位(日间照料)",
            "Places in community (day-care) facilities",
            "张/个 places",
            300,
            "number",
            required=False,
            lo=0,
        ),
    ),
    required=False,
    purpose=(
        "可选: 床位数(填了的项替换全国人均水平) / optional: beds and places (each one given replaces "
        "the national per-1,000 figure of the behaviour model)"
    ),
)

SHEETS: tuple[Sheet, ...] = (REGION, POPULATION, COUNTIES, ECON, BEDS)
README_SHEET = "说明 README"
