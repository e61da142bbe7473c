"""Validated shapes of the input files: scenario, region, margins and ability model.

Pydantic checks types, ranges and unknown keys (``extra="forbid"`` makes a misspelt key an error
rather than a silently ignored one); the validators below add the domain checks: shares that sum to
1, full coverage of every conditioning cell, known labels.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from agingsim.population.attributes import (
    ABILITY_LEVELS,
    ATTRIBUTE_ORDER,
    CATEGORICAL_ATTRIBUTES,
    categories_of,
)
from agingsim.scenario.ranges import (
    HOURS_PER_MONTH,
    MAX_BEDS,
    MAX_BUDGET_CNY,
    MAX_COEFFICIENT,
    MAX_ENTRANTS,
    MAX_FACILITIES,
    MAX_FLOOR_M2,
    MAX_INTENSITY,
    MAX_MONTHLY_CNY,
    MAX_PEOPLE,
    MAX_RATIO,
    MAX_SERVINGS,
    MAX_UNIT_CNY,
    Bounded,
    Range,
)

#: Published shares are often rounded: sums within this of 1 are accepted and renormalised.
SHARE_TOLERANCE = 0.005

Probability = Range(0.0, 1.0, "(a share)")
People = Range(0, MAX_PEOPLE, "people")
Money = Range(0, MAX_UNIT_CNY, "CNY")
Coefficient = Range(-MAX_COEFFICIENT, MAX_COEFFICIENT, "(utility)")
Ratio = Range(0, MAX_RATIO, "(ratio)", gt=True)
Hours = Range(0, HOURS_PER_MONTH, "hours a month")
#: Free-form parameters (a number, a table by level, dated tables) whose numbers are bounded.
Share = Bounded(0.0, 1.0, "(a share)")
MonthlyAmount = Bounded(0, MAX_MONTHLY_CNY, "CNY per person per month")
UnitAmount = Bounded(0, MAX_UNIT_CNY, "CNY per unit")
BudgetCap = Bounded(0, MAX_BUDGET_CNY, "CNY per year")


class Strict(BaseModel):
    """Base of every input file's shape: unknown keys and non-finite numbers (nan, inf) are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False)


def check_unique(ids: list, what: str) -> None:
    """Raise if any id appears twice (counties, schemes, transitions)."""
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate {what}: {', '.join(map(str, dupes))}")


def check_sums_to_one(values: list[float], what: str) -> None:
    total = float(sum(values))
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"{what} sum to {total:.4g}, not 1")


# --------------------------------------------------------------------------- scenario


class ScenarioMeta(Strict):
    name: str = Field(min_length=1)
    name_en: str = ""
    description: str = ""


class RunSettings(Strict):
    start_year: int = Field(ge=2000, le=2100)
    years: int = Field(ge=1, le=60)
    seed: int = Field(ge=0, lt=2**63)
    simulated_people: int = Field(
        ge=100, le=50_000_000, description="people simulated at the start; weights scale to real"
    )


class PopulationRef(Strict):
    region: str = Field(min_length=1, description="calibration/regions/<region>.toml or a path")
    margins: str = Field(min_length=1, description="calibration/margins/<margins>.toml or a path")
    ability_model: str = Field(min_length=1, description="calibration/ability/<ability_model>.toml or a path")
    #: calibration/behaviour/<name>.toml: care choice, providers, queues. Without it care settings
    #: stay as drawn and delivery follows the schemes' stated rates.
    behaviour: str | None = Field(default=None, min_length=1)
    #: calibration/behaviour/admission/<name>.toml: the public-bed admission list of the scenario's
    #: seed, replacing the behaviour file's [admission] (needs a behaviour model).
    admission: str | None = Field(default=None, min_length=1)


class GeographyRef(Strict):
    """Where the region's communities and facilities are (issue 8, agingsim.geo), and optionally the
    walking assumptions of the 15-minute circle overriding those of the geography file."""

    communities: str = Field(min_length=1, description="calibration/geo/<communities>.toml or a path")
    minutes: Annotated[float, Field(gt=0, le=120)] | None = None
    walk_speed_kmh: Annotated[float, Field(gt=0, le=10)] | None = None
    detour_factor: Annotated[float, Field(ge=1, le=3)] | None = None


class CalendarMortality(Strict):
    """Death rates that change with calendar time (issue 14 item 2), overriding the ability model's
    fixed life-table period for this scenario.

    * ``path = "wpp"``: m(x) by age, sex and calendar year, log-linear between the mid-years of the
      published 5-year periods of ``table`` (UN WPP 2024 estimates to 2023, medium variant after),
      held at the first/last period outside them. COVID: WPP's 2020–2025 period rate includes the
      2022–23 excess deaths as published; it is not re-spread into a shock year, so 2020–2024 get a
      blend of the 2015–2020 and 2020–2025 rates and no single year carries the excess.
    * ``path = "fixed"``: the ``period`` column of ``table`` every year.
    * ``path = "improvement"``: ``period`` at its mid-year, falling by ``annual_improvement`` a year
      (m(x, t) = m(x) × (1 − i)^(t − mid)), a stated assumption.

    ``table`` is a CSV (relative to the scenario) with columns ``period, mid_year, sex, age, mx,
    source`` (``age`` = lower edge of a 5-year group; last group open), as
    calibration/data/wpp2024_china_mx5_by_year.csv. Rates are split by ability level as before.
    """

    path: Literal["wpp", "fixed", "improvement"]
    table: str = Field(min_length=1, pattern=r"\.csv$")
    period: str | None = None
    annual_improvement: float = Field(0.0, ge=-0.05, le=0.05)

    @model_validator(mode="after")
    def _period_given(self) -> CalendarMortality:
        if self.path != "wpp" and self.period is None:
            raise ValueError(f'path = "{self.path}" needs a period (e.g. "2015-2020")')
        if self.path != "improvement" and self.annual_improvement != 0.0:
            raise ValueError('annual_improvement applies only with path = "improvement"')
        return self


class ScenarioFile(Strict):
    scenario: ScenarioMeta
    run: RunSettings
    population: PopulationRef
    policy: PolicySection | None = None
    geography: GeographyRef | None = None
    #: calendar-time mortality; without it the ability model's fixed life-table period applies
    mortality: CalendarMortality | None = None
    targets: list[Target] = Field(default_factory=list)

    @model_validator(mode="after")
    def _targets_refer(self) -> ScenarioFile:
        check_unique([t.id for t in self.targets], "target id(s)")
        plans = {f.id for f in self.policy.facilities} if self.policy else set()
        schemes = {s.id for s in self.policy.schemes} if self.policy else set()
        for t in self.targets:
            unknown = [p for p in t.plans if p not in plans]
            if unknown:
                raise ValueError(f"target {t.id}: unknown facility plan(s) {unknown}")
            if t.scheme is not None and t.scheme not in schemes:
                raise ValueError(f"target {t.id}: unknown scheme '{t.scheme}'")
        return self


# --------------------------------------------------------------------------- region


class County(Strict):
    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1)
    name_en: str = ""
    share_60plus: Probability
    urban_share: Probability
    ltc_insured_share: Probability = 0.0


class Entry(Strict):
    """People turning 60 each year (the open population's inflow)."""

    base_year: int = Field(ge=1990, le=2100)
    entrants_per_year: Range(0, MAX_ENTRANTS, "people a year")
    annual_growth: float = Field(ge=-0.5, le=0.5)
    male_share: Probability


class PopulationBase(Strict):
    """Where the region's people by age × sex come from: a table at a stated reference date.

    ``file`` is a CSV next to the region file (format: :mod:`agingsim.population.base`), at
    ``reference_date`` (the 2020 census counts people at 0:00 on 1 November 2020). The people 60+ at
    the start and those turning 60 each year are the table's own cohorts, survived forward with the
    model's mortality; ``net_migration_rate`` (per year, share of the cohort) adds or removes movers
    aged 40–59. For years when cohorts younger than the table's youngest age would be needed,
    ``projection`` names a projection CSV (``year, sex, age, people``: 5-year groups at 1 July, as
    UN WPP 2024's calibration/data/wpp2024_china_pop5.csv) scaled to the region.
    """

    file: str = Field(min_length=1, pattern=r"\.csv$")
    reference_date: datetime.date
    net_migration_rate: float = Field(0.0, ge=-0.1, le=0.1)
    projection: str | None = Field(default=None, min_length=1, pattern=r"\.csv$")


class RegionFile(Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    name_en: str = ""
    province: str = ""
    city: str = Field("", description="the city government paying 'city' shares; default: this region")
    units_are: str = Field(
        "county",
        pattern=r"^(county|city)$",
        description="what the sub-units below are: counties/districts (default) or a province's cities",
    )
    #: people 60+ at the start; with a population base it is the table's 60+ at its reference date
    #: (filled in by the loader when absent, checked against the table when given)
    pop_60plus: Range(0, MAX_PEOPLE, "people", gt=True) | None = None
    #: flat inflow at 60, for regions without a population base
    entry: Entry | None = None
    population_base: PopulationBase | None = None
    counties: list[County] = Field(min_length=1)

    @field_validator("entry")
    @classmethod
    def _entrants_below_stock(cls, entry: Entry | None, info: ValidationInfo) -> Entry | None:
        pop = info.data.get("pop_60plus")
        if entry is not None and pop is not None and entry.entrants_per_year > pop:
            raise ValueError(
                f"entrants_per_year ({entry.entrants_per_year:,.0f}) exceeds pop_60plus "
                f"({pop:,.0f}): more people cannot turn 60 in a year than are over 60"
            )
        return entry

    @model_validator(mode="after")
    def _entry_or_base(self) -> RegionFile:
        if self.population_base is None:
            if self.entry is None:
                raise ValueError(
                    "needs [entry] (a flat inflow at 60) or [population_base] (a table by age × sex)"
                )
            if self.pop_60plus is None:
                raise ValueError("pop_60plus: field required without [population_base]")
        elif self.entry is not None:
            raise ValueError(
                "give either [entry] or [population_base], not both: with a base table, people turning 60 "
                "come from its cohorts"
            )
        return self

    @field_validator("counties")
    @classmethod
    def _counties_consistent(cls, counties: list[County]) -> list[County]:
        check_unique([c.id for c in counties], "county id(s)")
        check_sums_to_one([c.share_60plus for c in counties], "counties' share_60plus")
        return counties


# --------------------------------------------------------------------------- margins


class AgeSexRow(Strict):
    """People by age (a single year ``"67"``, a band ``"60-64"`` or open ``"100+"``) and sex."""

    age: str = Field(pattern=r"^\d{2,3}(-\d{2,3}|\+)?$")
    M: People
    F: People


class AttributeMargin(Strict):
    """P(attribute | conditioning variables), one row per cell of the ``by`` grid.

    ``p`` is a list of shares in the attribute's category order, or for a yes/no attribute the
    probability of yes.
    """

    by: list[str] = Field(default_factory=list)
    rows: list[dict[str, Any]] = Field(min_length=1)


class MarginsFile(Strict):
    age_bands: list[int] = Field(min_length=1)
    age_sex: list[AgeSexRow] = Field(min_length=1)
    attributes: dict[str, AttributeMargin]

    @field_validator("age_bands")
    @classmethod
    def _bands_increasing(cls, v: list[int]) -> list[int]:
        if v[0] != 60:
            raise ValueError("the first age band must start at 60")
        if any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError("age band edges must increase")
        if v[-1] > 120:
            raise ValueError(f"age band edges must be ages, at most 120 (got {v[-1]})")
        return v

    @field_validator("age_sex")
    @classmethod
    def _ages_do_not_overlap(cls, rows: list[AgeSexRow]) -> list[AgeSexRow]:
        spans = []
        for row in rows:
            lo, _, hi = row.age.rstrip("+").partition("-")
            end = float("inf") if row.age.endswith("+") else int(hi or lo)
            if end < int(lo):
                raise ValueError(f"age '{row.age}': the band ends before it starts")
            spans.append((int(lo), end, row.age))
        spans.sort()
        for (_, end_a, a), (lo_b, _, b) in itertools.pairwise(spans):
            if lo_b <= end_a:
                raise ValueError(f"age rows '{a}' and '{b}' overlap: each age must be in one row")
        return rows

    @field_validator("attributes")
    @classmethod
    def _known_attributes(cls, v: dict[str, AttributeMargin]) -> dict[str, AttributeMargin]:
        unknown = sorted(set(v) - set(ATTRIBUTE_ORDER))
        if unknown:
            raise ValueError(
                f"unknown attribute(s) {', '.join(unknown)}; known: {', '.join(ATTRIBUTE_ORDER)}"
            )
        missing = [a for a in ATTRIBUTE_ORDER if a not in v]
        if missing:
            raise ValueError(f"missing margin(s) for {', '.join(missing)}")
        return v

    def band_labels(self) -> tuple[str, ...]:
        return age_band_labels(self.age_bands)


def age_band_labels(edges: list[int] | tuple[int, ...]) -> tuple[str, ...]:
    """``[60, 65, 70]`` → ``("60-64", "65-69", "70+")``."""
    labels = [f"{a}-{b - 1}" for a, b in itertools.pairwise(edges)]
    return (*labels, f"{edges[-1]}+")


def conditioning_levels(var: str, band_labels: tuple[str, ...]) -> tuple[str, ...]:
    return band_labels if var == "age_band" else categories_of(var)


def validate_attribute_margin(
    name: str, margin: AttributeMargin, band_labels: tuple[str, ...]
) -> list[tuple[str, str]]:
    """Domain checks of one margin; returns ``(key, problem)`` pairs relative to the margin."""
    problems: list[tuple[str, str]] = []
    allowed = ["age_band", "sex", "residence", *ATTRIBUTE_ORDER[: ATTRIBUTE_ORDER.index(name)]]
    for var in margin.by:
        if var not in allowed:
            problems.append(("by", f"cannot condition {name} on '{var}'; allowed: {', '.join(allowed)}"))
    if problems:
        return problems
    levels = {var: conditioning_levels(var, band_labels) for var in margin.by}
    n_cat = len(CATEGORICAL_ATTRIBUTES.get(name, ()))
    seen: set[tuple[str, ...]] = set()
    for i, row in enumerate(margin.rows):
        key = f"rows[{i}]"
        extra = set(row) - {*margin.by, "p"}
        if extra:
            problems.append((key, f"unknown key(s) {', '.join(sorted(extra))}"))
            continue
        cell = []
        for var in margin.by:
            value = row.get(var)
            if value not in levels[var]:
                problems.append((f"{key}.{var}", f"'{value}' is not one of {', '.join(levels[var])}"))
            cell.append(str(value))
        if "p" not in row:
            problems.append((f"{key}.p", "missing"))
            continue
        p = row["p"]
        if n_cat:
            if not isinstance(p, list) or len(p) != n_cat:
                problems.append(
                    (f"{key}.p", f"needs {n_cat} shares in the order {', '.join(categories_of(name))}")
                )
                continue
            bad = [x for x in p if not isinstance(x, int | float) or not 0 <= x <= 1]
            if bad:
                problems.append((f"{key}.p", f"shares must be probabilities in [0, 1], got {bad[0]}"))
                continue
            try:
                check_sums_to_one(p, "shares")
            except ValueError as exc:
                problems.append((f"{key}.p", str(exc)))
        elif not isinstance(p, int | float) or isinstance(p, bool) or not 0 <= p <= 1:
            problems.append((f"{key}.p", f"must be a probability in [0, 1], got {p!r}"))
        if tuple(cell) in seen:
            problems.append((key, f"duplicate cell {dict(zip(margin.by, cell, strict=True))}"))
        seen.add(tuple(cell))
    if not problems:
        expected = 1
        for var in margin.by:
            expected *= len(levels[var])
        if len(seen) != expected:
            problems.append(
                ("rows", f"covers {len(seen)} of the {expected} cells of {' × '.join(margin.by)}")
            )
    return problems


# --------------------------------------------------------------------------- ability model


class Transition(Strict):
    """Intensity (per person-year) of moving between two ability levels.

    ``rate(age, sex) = rate_60 × exp(age_slope × (age − 60)) × (female_rr if female)``: a
    Gompertz-type age gradient, the shape used for CLHLS transition intensities.
    """

    from_: str = Field(alias="from")
    to: str
    rate_60: Range(0, MAX_INTENSITY, "per person-year")
    age_slope: float = Field(ge=-0.5, le=0.5)
    female_rr: Ratio = 1.0

    @model_validator(mode="after")
    def _levels(self) -> Transition:
        for end in (self.from_, self.to):
            if end not in ABILITY_LEVELS:
                raise ValueError(f"unknown ability level '{end}'; known: {', '.join(ABILITY_LEVELS)}")
        if self.from_ == self.to:
            raise ValueError("a transition must change level")
        return self


class Mortality(Strict):
    life_table: str = Field(description="CSV of central death rates m(x) by sex and 5-year age")
    period: str
    hazard_ratio: dict[str, Ratio]
    #: how each level's excess death-rate ratio over intact changes per year of age:
    #: ``HR(age) = 1 + (hazard_ratio − 1) × exp(hazard_ratio_age_slope × (age − 60))``. Negative: the
    #: disabled/healthy ratio falls with age, as CLHLS's does (4 at 70, 2 at 90); ratios stay ≥ 1 and
    #: ordered by level at every age. 0 (default): constant ratios, ``hazard_ratio`` at every age.
    hazard_ratio_age_slope: float = Field(default=0.0, ge=-0.3, le=0.1)

    @field_validator("hazard_ratio")
    @classmethod
    def _all_levels(cls, v: dict[str, float]) -> dict[str, float]:
        if set(v) != set(ABILITY_LEVELS):
            raise ValueError(f"needs exactly the levels {', '.join(ABILITY_LEVELS)}")
        return v


class OnsetTrend(Strict):
    """Calendar trend of onset and progression (every transition towards a worse level).

    Rates in calendar year ``y`` are the file's × ``exp(per_year × (y − reference_year))`` when
    ``applied``; otherwise the file's rates hold in every year and ``per_year`` is only reported.
    """

    per_year: float = Field(ge=-0.15, le=0.15)
    reference_year: int = Field(ge=1990, le=2100)
    applied: bool = False


class AbilityModelFile(Strict):
    levels: list[str]
    age_max: int = Field(ge=90, le=120)
    transitions: list[Transition] = Field(min_length=1)
    mortality: Mortality
    onset_trend: OnsetTrend | None = None

    @field_validator("levels")
    @classmethod
    def _gbt_levels(cls, v: list[str]) -> list[str]:
        if tuple(v) != ABILITY_LEVELS:
            raise ValueError(f"must be the GB/T 42195 levels {list(ABILITY_LEVELS)}")
        return v

    @field_validator("transitions")
    @classmethod
    def _unique_transitions(cls, transitions: list[Transition]) -> list[Transition]:
        check_unique([f"{t.from_}→{t.to}" for t in transitions], "transition(s)")
        return transitions


# --------------------------------------------------------------------------- policy (issue 3)

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
    unit: str = ""
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


ScenarioFile.model_rebuild()


# --------------------------------------------------------------------------- behaviour


ByLevel = dict[
    Literal["intact", "mild", "moderate", "severe", "complete"], Range(0, MAX_MONTHLY_CNY, "CNY a month")
]
EconStatus = Literal["tekun_centralised", "tekun_dispersed", "dibao", "near_dibao", "ordinary"]
ByLevelSigned = dict[Literal["intact", "mild", "moderate", "severe", "complete"], Coefficient]
CareSetting = Literal["family_care", "home_services", "family_bed", "day_care", "institution"]


def _by_level_complete(v: dict[str, float], what: str) -> dict[str, float]:
    missing = [lv for lv in ABILITY_LEVELS if lv not in v]
    if missing:
        raise ValueError(f"{what} needs every ability level; missing {', '.join(missing)}")
    return v


class Prices(Strict):
    """Monthly list prices (CNY) that users pay before subsidies."""

    institution_public: ByLevel
    institution_private: ByLevel
    family_bed: ByLevel
    day_care: Range(0, MAX_MONTHLY_CNY, "CNY a month")
    home_service_hour: Range(0, MAX_MONTHLY_CNY, "CNY an hour")

    @field_validator("institution_public", "institution_private", "family_bed")
    @classmethod
    def _levels(cls, v: dict[str, float]) -> dict[str, float]:
        return _by_level_complete(v, "a price table")


class Needs(Strict):
    """Hours of personal care a month by ability level (home services and family beds deliver them)."""

    hours_per_month: dict[Literal["intact", "mild", "moderate", "severe", "complete"], Hours]
    family_bed_hours_factor: Range(0, 10, "(factor)", gt=True) = 1.0

    @field_validator("hours_per_month")
    @classmethod
    def _levels(cls, v: dict[str, float]) -> dict[str, float]:
        return _by_level_complete(v, "hours_per_month")


class ChoiceModel(Strict):
    """Multinomial-logit care choice: utility of each setting for a person reviewing it this month."""

    #: Besides anyone whose situation changed, everyone reviews their care once every this many
    #: months (staggered by person id), so settings respond to prices with a realistic lag.
    review_every_months: int = Field(ge=1, le=120)
    asc: dict[CareSetting, ByLevelSigned]
    family: dict[
        Literal["with_family", "empty_nest", "left_behind", "alone"], dict[CareSetting, Coefficient]
    ] = Field(default_factory=dict)
    price_per_1000: dict[EconStatus, Coefficient]
    wait_per_month: Coefficient = 0.0
    shortage: Coefficient = 0.0
    distance_per_km: Coefficient = 0.0
    stay: Coefficient = 0.0

    @field_validator("asc")
    @classmethod
    def _asc(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for setting, table in v.items():
            _by_level_complete(table, f"asc.{setting}")
        if "family_care" not in v:
            raise ValueError("asc needs family_care (the reference alternative)")
        return v


class SupplyStart(Strict):
    """Capacity at the start, per 1,000 people 60+ (applied to every county)."""

    institution_beds_per_1000: Range(0, 1000, "beds per 1,000 people 60+")
    public_bed_share: Probability
    nursing_bed_share: Probability
    day_care_places_per_1000: Range(0, 1000, "places per 1,000 people 60+")
    #: Yearly change of the starting community (day-care) places, compounding from the start month:
    #: the stock follows the bulletins' trend instead of staying fixed. 0: a fixed stock.
    day_care_places_growth: float = Field(default=0.0, ge=-0.5, le=0.5)
    #: Carers on hand at the start, as a share of the home-care hours then needed.
    initial_delivered_share: Probability


class Investment(Strict):
    """How private operators of beds respond to profit, subsidies included (yearly decision)."""

    capital_cost_per_bed: Range(0, MAX_UNIT_CNY, "CNY per bed", gt=True)
    fixed_cost_per_bed_month: Range(0, MAX_MONTHLY_CNY, "CNY per bed-month")
    variable_cost_per_resident_month: Range(0, MAX_MONTHLY_CNY, "CNY per resident-month")
    payback_years: Range(0, 100, "years", gt=True)
    max_growth: Probability
    sensitivity: Range(0, MAX_COEFFICIENT, "(response)")
    closure_occupancy: Probability
    closure_rate: Probability


class Carers(Strict):
    hours_per_carer_month: Range(0, HOURS_PER_MONTH, "hours a month", gt=True)
    hiring_share: Probability
    attrition_per_month: Probability


class PriorityGroup(Strict):
    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    when: str = Field(min_length=1)
    clause: str = ""


class Admission(Strict):
    """Who gets a public bed first (seed 000 §15, 001 §13, 003 §12): groups in order; within a group
    the tie-break rules in order (001 §16 同等条件下优先), then first come, first served. Rules may
    use ``definitions`` (the scenario's [policy.definitions] override them). The same shape is a
    whole file in calibration/behaviour/admission/ (a scenario's ``population.admission``)."""

    priority: list[PriorityGroup] = Field(min_length=1)
    policy_guaranteed: str = Field(min_length=1)
    tie_break: list[PriorityGroup] = Field(default_factory=list)
    definitions: dict[str, str] = Field(default_factory=dict)

    @field_validator("priority")
    @classmethod
    def _unique(cls, v: list[PriorityGroup]) -> list[PriorityGroup]:
        check_unique([g.id for g in v], "priority group ids")
        return v


class BehaviourFile(Strict):
    prices: Prices
    needs: Needs
    choice: ChoiceModel
    supply: SupplyStart
    investment: Investment
    carers: Carers
    admission: Admission
