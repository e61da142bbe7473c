"""The ability-model file: transitions between GB/T 42195 levels, mortality by level, onset trend."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from agingsim.population.attributes import (
    ABILITY_LEVELS,
)
from agingsim.scenario.ranges import (
    MAX_INTENSITY,
    Range,
)
from agingsim.scenario.schema.base import Ratio, Strict, check_unique


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
