"""The behaviour-model file: prices, needs, the choice model, supply and investment, carers and
admission priority.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from agingsim.population.attributes import (
    ABILITY_LEVELS,
)
from agingsim.scenario.ranges import (
    HOURS_PER_MONTH,
    MAX_COEFFICIENT,
    MAX_MONTHLY_CNY,
    MAX_UNIT_CNY,
    Range,
)
from agingsim.scenario.schema.base import Coefficient, Hours, Probability, Strict, check_unique

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
