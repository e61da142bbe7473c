"""Yearly tables from the people arrays: stock by age band × sex × ability, and flows.

Counts are weighted (real people, never simulated ones) and computed with one ``np.bincount`` over a
small-integer key: the county and the packed state code (ability/transitions.py), which already holds
sex, level and age in months. Age months are then summed into the output's bands on the small table,
so a snapshot of a million people reads two int16 columns and the weights, and costs milliseconds.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd

from agingsim.ability.transitions import AGE0_M
from agingsim.population.attributes import ABILITY_LEVELS, DEAD, SEXES
from agingsim.population.people import People
from agingsim.scenario.schema import age_band_labels

#: Age bands of the output tables: 60-64, …, 95-99, 100+.
OUTPUT_AGE_EDGES: tuple[int, ...] = tuple(range(60, 101, 5))
OUTPUT_AGE_BANDS: tuple[str, ...] = age_band_labels(OUTPUT_AGE_EDGES)


class PopulationCollector:
    """Collects the population as at 1 January of each year, and entrants and deaths per year."""

    def __init__(self, county_ids: list[str], code_span: int) -> None:
        self.county_ids = county_ids
        self.code_span = code_span
        self.shape = (len(county_ids), len(SEXES), len(OUTPUT_AGE_BANDS), len(ABILITY_LEVELS) + 1)
        #: first age month (past 60) of each output band, for np.add.reduceat over the age axis
        starts = [e * 12 - AGE0_M for e in OUTPUT_AGE_EDGES]
        self._band_starts = np.array([a for a in starts if a < code_span])
        self.stock: dict[int, np.ndarray] = {}
        self.entrants: dict[int, np.ndarray] = {}
        self.deaths: dict[int, np.ndarray] = {}
        #: year → where that year's entrants at 60 come from ("base": the population base's own
        #: cohorts; "projection": the scaled published projection; "flat": the region's [entry] rate)
        self.entrants_from: dict[int, str] = {}
        #: results.fused, set by the model for the large runs that load numba anyway: the count is
        #: then one compiled pass instead of numpy's cast, product, sum and bincount
        self.fused: ModuleType | None = None

    def snapshot(self, year: int, people: People) -> None:
        c, s, b, a = self.shape
        n_codes = s * a * self.code_span
        if self.fused is not None:
            counts = np.zeros(c * n_codes)
            self.fused.stock_counts(people.county, people.code, people.weight, np.int64(n_codes), counts)
        else:
            key = people.county.astype(np.intp)  # bincount's own index type: no second conversion
            key *= n_codes
            key += people.code
            counts = np.bincount(key, weights=people.weight, minlength=c * n_codes)
        by_month = counts.reshape(c, s, a, self.code_span)
        by_band = np.zeros((c, s, a, b))
        by_band[..., : len(self._band_starts)] = np.add.reduceat(by_month, self._band_starts, axis=-1)
        self.stock[year] = by_band.transpose(0, 1, 3, 2)[..., :DEAD]
        n = len(self.county_ids)
        self.entrants.setdefault(year, np.zeros(n))
        self.deaths.setdefault(year, np.zeros(n))

    def add_flow(self, year: int, kind: str, county: np.ndarray, weight: np.ndarray) -> None:
        table = self.entrants if kind == "entrants" else self.deaths
        n = len(self.county_ids)
        table.setdefault(year, np.zeros(n))
        table[year] += np.bincount(county, weights=weight, minlength=n)

    def population_frame(self) -> pd.DataFrame:
        """population.csv: year, county, sex, age_band, ability_level, people."""
        years = sorted(self.stock)
        values = np.stack([self.stock[y] for y in years])
        index = pd.MultiIndex.from_product(
            [years, self.county_ids, SEXES, OUTPUT_AGE_BANDS, ABILITY_LEVELS],
            names=["year", "county", "sex", "age_band", "ability_level"],
        )
        return pd.DataFrame({"people": values.ravel()}, index=index).reset_index()

    def demography_frame(self) -> pd.DataFrame:
        """demography.csv: people at 1 January, entrants and deaths during the year, by county, and
        where the year's entrants come from (``entrants_from``; "none" for the 1 January after the
        run): a reader of a 2040 cost must see whether its new 60-year-olds are census cohorts or a
        projection."""
        rows = []
        for year in sorted(self.stock):
            start = self.stock[year].sum(axis=(1, 2, 3))
            for i, county in enumerate(self.county_ids):
                rows.append(
                    {
                        "year": year,
                        "county": county,
                        "people_1_jan": start[i],
                        "entrants": self.entrants.get(year, np.zeros(len(self.county_ids)))[i],
                        "deaths": self.deaths.get(year, np.zeros(len(self.county_ids)))[i],
                        "entrants_from": self.entrants_from.get(year, "none"),
                    }
                )
        return pd.DataFrame(rows)
