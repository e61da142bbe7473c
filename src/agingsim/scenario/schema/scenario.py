"""The scenario file: what to run (its metadata, run settings, population and geography references,
calendar mortality, policy and targets).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from agingsim.scenario.schema.base import Strict, check_unique
from agingsim.scenario.schema.policy import PolicySection, Target


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
