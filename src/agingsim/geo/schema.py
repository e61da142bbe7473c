"""The geography descriptor (``calibration/geo/<name>.toml``) as validated: the walk that makes a
15-minute circle, construction-cost rules, space standards and plan targets (geography.py reads it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agingsim.scenario.ranges import MAX_FLOOR_M2, MAX_UNIT_CNY, Range


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class WalkFile(_Strict):
    """How far a 15-minute walk reaches: walking distance = speed × minutes; straight-line reach =
    walking distance / detour factor (streets are not straight lines)."""

    minutes: Annotated[float, Field(gt=0, le=120)]
    speed_kmh: Annotated[float, Field(gt=0, le=10)]
    detour_factor: Annotated[float, Field(ge=1, le=3)]


class CostRule(_Strict):
    """Construction subsidy of a new facility of one type: ``amount`` CNY per bed or per m², times
    ``quantity`` (beds or m²) unless the candidate row gives its own beds / floor_m2 / cost_cny."""

    per: Literal["bed", "m2", "facility"]
    amount: Range(0, MAX_UNIT_CNY, "CNY per unit")
    quantity: Range(0, MAX_FLOOR_M2, "beds or m²") = 1.0


class SpaceStandardsFile(_Strict):
    """Floor-area standards for community elderly-service facilities (seed 002 三(一), 003 §10)."""

    m2_per_resident: NonNegative
    m2_per_100_households_new: NonNegative
    min_m2_new: NonNegative
    m2_per_100_households_existing: NonNegative


class TargetsFile(_Strict):
    """Numbers of facilities a plan sets (seed 002 二(二)-2: 60 centres and 320 stations by 2023)."""

    year: int = Field(ge=1990, le=2100)
    counts: dict[str, Annotated[int, Field(ge=0)]]


class GeographyFile(_Strict):
    name: str = Field(min_length=1)
    name_en: str = ""
    description: str = ""
    synthetic: bool
    region: str | None = None
    communities: str = Field(min_length=1)
    facilities: str | None = None
    candidates: str | None = None
    walk: WalkFile
    costs: dict[str, CostRule] = Field(default_factory=dict)
    space_standards: SpaceStandardsFile | None = None
    targets: TargetsFile | None = None
    #: recipe of ``agingsim geo synth`` (only synthetic geographies have one)
    synth: dict[str, Any] | None = None
