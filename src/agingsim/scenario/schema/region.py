"""The region file: counties and their shares, entry of new 60-year-olds, and the population base."""

from __future__ import annotations

import datetime

from pydantic import Field, ValidationInfo, field_validator, model_validator

from agingsim.scenario.ranges import (
    MAX_ENTRANTS,
    MAX_PEOPLE,
    Range,
)
from agingsim.scenario.schema.base import Probability, Strict, check_sums_to_one, check_unique


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
