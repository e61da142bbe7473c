"""A scenario's policy: person schemes, facility plans, fiscal splits, programmes, registration and
targets (issue 3).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from agingsim.scenario.ranges import (
    MAX_BEDS,
    MAX_BUDGET_CNY,
    MAX_FACILITIES,
    MAX_FLOOR_M2,
    MAX_PEOPLE,
    MAX_SERVINGS,
    Bounded,
    Range,
)
from agingsim.scenario.schema.base import (
    BudgetCap,
    Money,
    MonthlyAmount,
    Probability,
    Share,
    Strict,
    UnitAmount,
    check_sums_to_one,
    check_unique,
)

SchemeFamily = Literal["supply", "demand", "allowance", "workforce"]
SCHEME_FAMILIES: tuple[str, ...] = get_args(SchemeFamily)
PAYER_LEVELS = ("province", "city", "county")


def check_payer_levels(table: dict[str, Any]) -> None:
    """Raise unless every key of a table by payer level is province, city or county."""
    unknown = set(table) - set(PAYER_LEVELS)
    if unknown:
        raise ValueError(f"unknown payer level(s) {sorted(unknown)}; known: {', '.join(PAYER_LEVELS)}")


class BenefitGroup(Strict):
    """One eligible group of a scheme: a rule, and the monthly standard for people it covers.

    ``amount`` is CNY per person per month: a number, a table by ability level
    (``{ mild = 100, moderate = 200, ... }``), or either of those dated (``{ "2027-01" = ... }``).
    """

    id: str = Field(min_length=1)
    clause: str = ""
    when: str = Field(min_length=1)
    amount: MonthlyAmount = None


class RationClass(Strict):
    """One class of a one-off scheme's ration order: a rule, and the clause or assumption for it."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    when: str = Field(min_length=1)
    clause: str = ""


#: Care settings a voucher or purchased service can pay for (CARE_SETTINGS without family care).
ServiceSetting = Literal["home_services", "family_bed", "day_care", "institution"]


class PersonScheme(Strict):
    """A benefit that follows the person (补人头): allowance, voucher or purchased service."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1)
    name_en: str = ""
    family: SchemeFamily
    clause: str = ""
    eligible: str = "age >= 60"
    exclude: str | None = None
    exclude_recipients_of: list[str] = Field(default_factory=list)
    counties: list[str] | None = None
    active: Any = True
    #: "entitled": paid to everyone eligible (cash allowances); "delivered": paid on services delivered
    payment: Literal["entitled", "delivered"] = "entitled"
    delivery_rate: Share = 1.0
    #: Care settings the benefit pays for (a voucher or purchased service): with a behaviour model it
    #: lowers the net price of these settings in the care choice and is paid only for people using
    #: them, on the service actually delivered (home services within carer capacity).
    uses: list[ServiceSetting] = Field(default_factory=list)
    amount: MonthlyAmount = None
    groups: list[BenefitGroup] = Field(default_factory=list)
    payers: Share
    lottery_share: Share = 0.0
    #: CNY per year each payer level may spend on this line (county: each county's own budget);
    #: when it runs out eligible people wait until the next year. Dated like any parameter.
    budget_cap: BudgetCap = None
    #: One-off payment (schemes.oneoff): ``amount`` is then CNY paid once per "person" or per
    #: "household", the first month the person is eligible and within the quota, never again.
    once: Literal["person", "household"] | None = None
    #: Eligible elders per household (household payments: a household is paid once for them all).
    people_per_household: Bounded(1.0, 10.0, "eligible elders per household") = 1.0
    #: Beneficiaries (people, or households for ``once = "household"``) each payer level may pay for
    #: per year (county: each county's own quota; city/province: the whole region's). Dated.
    quota: Bounded(0, MAX_PEOPLE, "beneficiaries a year") = None
    #: Who is served first when the quota binds: these classes in order, then first come (the month
    #: first eligible), then person id (the application order within a month is not known).
    ration_order: list[RationClass] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_off_terms(self) -> PersonScheme:
        if self.once is None:
            for name in ("quota", "ration_order"):
                if getattr(self, name):
                    raise ValueError(f'{name} applies to one-off schemes (once = "person"/"household")')
            return self
        for name, default in (("uses", []), ("exclude_recipients_of", []), ("budget_cap", None)):
            if getattr(self, name) != default:
                raise ValueError(f"{name} does not apply to a one-off scheme; ration with quota")
        if self.payment != "entitled" or self.delivery_rate != 1.0:
            raise ValueError(
                "a one-off scheme pays all eligible within its quota: leave payment, delivery_rate unset"
            )
        return self


FacilityType = Literal[
    "street_centre",  # 街道/乡镇养老服务中心 (≥ 30 beds)
    "community_station",  # 社区养老服务站
    "canteen",  # 社区食堂 / 助餐点
    "institution",  # 养老机构
    "nursing_home",  # 区级护理院
]
#: Facility types whose beds are residential (institution) beds; community stations offer day care.
RESIDENTIAL_TYPES = frozenset({"institution", "nursing_home", "street_centre"})
FacilityBasis = Literal["new_bed", "floor_m2", "bed_month", "facility_year", "meal_servings", "carer_year"]


#: Who built and runs a plan's facilities: 公办, 社会力量 (private), 公建民营 (government-built,
#: privately run).
Operator = Literal["public", "private", "public_built_private_run"]


class FacilityPlan(Strict):
    """Facilities opening over time (a build plan): until providers respond to subsidies (the
    behaviour issue), supply is this plan. ``opens`` maps a month to how many open then."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    type: FacilityType
    name: str = Field(min_length=1)
    clause: str = ""
    operator: Operator = "private"
    county: str | None = None
    opens: dict[str, Range(0, MAX_FACILITIES, "facilities")]
    beds: Range(0, MAX_BEDS, "beds") = 0.0
    floor_m2: Range(0, MAX_FLOOR_M2, "m²") = 0.0
    carers: Range(0, MAX_FACILITIES, "carers") = 0.0
    servings_per_day: Bounded(0, MAX_SERVINGS, "servings a day") = 0.0
    #: With a behaviour model: privately run residential beds of this plan also open (or close) as
    #: operators respond to occupancy, prices and this plan's construction and operating subsidies.
    responsive: bool = False

    @model_validator(mode="after")
    def _responsive_beds(self) -> FacilityPlan:
        if self.responsive and (self.operator == "public" or self.type not in RESIDENTIAL_TYPES):
            raise ValueError(
                "responsive applies to privately run residential beds "
                f"({', '.join(sorted(RESIDENTIAL_TYPES))}), not to a {self.operator} {self.type}"
            )
        return self


class MealTier(Strict):
    min_servings: Range(0, MAX_SERVINGS, "servings a day")
    amount: Money


class FacilityScheme(Strict):
    """A subsidy that follows facilities (补床位/补砖头): construction, operation, meals, carers.

    ``basis`` says what is paid for: ``new_bed`` / ``floor_m2`` (construction, in ``instalments``),
    ``bed_month`` / ``facility_year`` (operation), ``meal_servings`` (per facility-year by the tier of
    its average daily servings), ``carer_year`` (workforce).
    """

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1)
    name_en: str = ""
    family: SchemeFamily = "supply"
    clause: str = ""
    applies_to: list[str] = Field(min_length=1)
    #: The operators the subsidy is paid to (default: all): a plan in ``applies_to`` run by another
    #: operator earns nothing from it (seed 002 三(四): construction subsidies only for facilities
    #: social forces invest in, 对其投资建设的, not for government-built 公建民营 ones).
    operators: list[Operator] | None = None
    basis: FacilityBasis
    amount: UnitAmount = None
    tiers: list[MealTier] = Field(default_factory=list)
    #: meal_servings only: how an average of daily servings that is not whole (30.5) meets tiers that
    #: the seed writes in whole 人次 (10至30, 31至60): "floor" (30.5 counts as 30) or "round_half_up"
    #: (30.5 counts as 31). Required for meal tiers, so the reading is stated (and labelled) in the file.
    fractional_servings: Literal["floor", "round_half_up"] | None = None
    instalments: list[Probability] = Field(default_factory=lambda: [1.0])
    paid: Literal["same_year", "following_year"] = "same_year"
    payment_month: int = Field(12, ge=1, le=12)
    active: Any = True
    payers: Share
    lottery_share: Share = 0.0

    @field_validator("instalments")
    @classmethod
    def _instalments(cls, v: list[float]) -> list[float]:
        if not v:
            raise ValueError("needs at least one instalment")
        check_sums_to_one(v, "instalments")
        return v

    @model_validator(mode="after")
    def _fractional_servings(self) -> FacilityScheme:
        if self.basis == "meal_servings" and self.fractional_servings is None:
            raise ValueError(
                'meal tiers need fractional_servings = "floor" or "round_half_up": how a daily average '
                "such as 30.5 meets tiers written in whole servings"
            )
        if self.basis != "meal_servings" and self.fractional_servings is not None:
            raise ValueError(f"fractional_servings applies to meal_servings only, not {self.basis}")
        return self

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: list[MealTier]) -> list[MealTier]:
        mins = [t.min_servings for t in v]
        if mins != sorted(mins) or len(set(mins)) != len(mins):
            raise ValueError("tiers must be in increasing order of min_servings, each once")
        return v


class FiscalSettings(Strict):
    discount_rate: Annotated[float, Field(ge=0.0, le=0.3)] = 0.0


class LotteryFunds(Strict):
    """Welfare-lottery public-welfare funds (福彩公益金) for social welfare retained by each level per
    year, and the minimum share to spend on elderly services (seeds 000 二(一)8, 001 二(三)9)."""

    retained: dict[str, Range(0, MAX_BUDGET_CNY, "CNY per year")]
    min_share: Probability = 0.55
    min_share_province: Probability = 0.70

    @field_validator("retained")
    @classmethod
    def _levels(cls, v: dict[str, float]) -> dict[str, float]:
        check_payer_levels(v)
        return v


#: Where a line's money comes from (the ledger's ``funding`` column): the general budget, welfare-lottery
#: funds (福彩公益金), sports-lottery funds (体彩公益金), the long-term-care insurance fund, special-purpose
#: bonds (专项债), central transfers and budget investment (中央预算内投资/转移支付), World Bank loans.
FUNDING_SOURCES = (
    "budget",
    "lottery",
    "sports_lottery",
    "ltc_fund",
    "special_bonds",
    "central_transfer",
    "world_bank_loan",
)


class Programme(Strict):
    """A fixed programme line (schemes.programme): ``amount`` CNY per unit × ``units`` a year, e.g.
    seed 001 §15's 8,000,000 CNY a year of sports-lottery funds (one unit), or seed 002 三(七)'s
    3,000 CNY carer award × the awards given a year. Paid once a year in ``payment_month``."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1)
    name_en: str = ""
    family: SchemeFamily = "supply"
    clause: str = ""
    amount: Any
    units: Any = 1.0
    unit: str = "programme"
    active: Any = True
    payment_month: int = Field(12, ge=1, le=12)
    #: the county the line is booked to; default: split over counties by their share of people 60+
    county: str | None = None
    payers: Any


class Registration(Strict):
    """Registered vs resident population (户籍 vs 常住; seed 004 三: 具有玉泉区户籍, 且长期居住…;
    seed 000 §3 ties services to the resident population). The model's people are residents; a
    scheme whose eligibility requires local household registration pays only for the registered
    share of them (schemes.registration)."""

    #: share of resident people 60+ holding local 户籍: one number, or a table by county id
    share: Any
    #: ids of the person-level schemes that require local registration
    schemes: list[str] = Field(min_length=1)


class PolicySection(Strict):
    definitions: dict[str, str] = Field(default_factory=dict)
    schemes: list[PersonScheme] = Field(default_factory=list)
    facilities: list[FacilityPlan] = Field(default_factory=list)
    facility_schemes: list[FacilityScheme] = Field(default_factory=list)
    programmes: list[Programme] = Field(default_factory=list)
    #: line id → shares of its budget-funded part by funding source (fiscal.funding), dated
    funding: dict[str, Any] = Field(default_factory=dict)
    fiscal: FiscalSettings = Field(default_factory=FiscalSettings)
    lottery: LotteryFunds | None = None
    registration: Registration | None = None

    @field_validator("schemes")
    @classmethod
    def _unique_ids(cls, schemes: list[PersonScheme]) -> list[PersonScheme]:
        check_unique([s.id for s in schemes], "scheme id(s)")
        return schemes


TargetMeasure = Literal[
    "facility_count",  # facilities of the build plan open at the end of the year
    "nursing_bed_share",  # nursing-type share of institutional beds (behaviour model, capacity.csv)
    "coverage_share",  # share of communities within the walk of a centre or station (geography)
    "floor_m2_per_resident",  # community elderly-service floor per resident (geography)
    "households_standard_share",  # share of estates meeting the m² per 100 households (geography)
    "served_share",  # people served ÷ people eligible of a person-level scheme (groups.csv)
    "not_modelled",  # the model cannot compute it: the row says so, with the reason
]


class Target(Strict):
    """A quantitative target a seed sets (targets.csv checks it each year of a run).

    Label ``required`` and ``by`` with the seed's clause (``source = "..."`` on the table)."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    target: str = Field(min_length=1)
    target_en: str = ""
    clause: str = Field(min_length=1)
    measure: TargetMeasure
    required: float | None = None
    #: the unit of ``required`` as the scorecard shows it, in Chinese (``unit_en`` in English)
    unit: str = ""
    unit_en: str = ""
    compare: Literal[">=", "<="] = ">="
    #: the year the target is due (rows of earlier years show progress; ``due`` says which)
    by: int | None = Field(default=None, ge=2000, le=2100)
    facility_types: list[FacilityType] = Field(default_factory=list)
    plans: list[str] = Field(default_factory=list)
    scheme: str | None = None
    community_type: Literal["urban", "rural"] | None = None
    #: why the model cannot compute it (not_modelled), shown in the report
    reason: str = ""

    @model_validator(mode="after")
    def _measure_terms(self) -> Target:
        if self.measure == "not_modelled":
            if not self.reason:
                raise ValueError("a not_modelled target needs a reason")
            return self
        if self.required is None:
            raise ValueError(f"a {self.measure} target needs the required value")
        if self.measure == "facility_count" and not (self.facility_types or self.plans):
            raise ValueError("a facility_count target needs facility_types or plans")
        if self.measure == "served_share" and not self.scheme:
            raise ValueError("a served_share target needs the scheme")
        return self
