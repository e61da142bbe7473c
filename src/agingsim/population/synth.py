"""Build synthetic older people from a region's margins (and population base, if it has one).

Age (single year) and sex come from the region's population base projected to the start
(:mod:`agingsim.population.cohorts`) or, for a region without one, from the margins' age–sex table
(spread within bands by life-table survivorship), scaled to the region's 60+ count;
county and urban/rural from the region file; then each attribute from its conditional margin in
draw order (ability | age band, sex, residence; economic status and family situation may condition on
age and on attributes drawn before them). Correlations therefore come from the margins the scenario
gives, nothing is invented in code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agingsim.ability.intensities import interpolate_mx
from agingsim.population.attributes import ATTRIBUTE_ORDER, FLAGS, SEXES
from agingsim.population.cohorts import CohortPlan, project_cohorts
from agingsim.population.margins import CompiledMargin, band_index, compile_margins
from agingsim.scenario.loader import Scenario
from agingsim.scenario.schema import MarginsFile

MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class Synthesiser:
    """Samplers for initial people and monthly entrants, compiled once per scenario."""

    margins: MarginsFile
    compiled: dict[str, CompiledMargin]
    age_max: int
    #: (n_ages, 2) probabilities of single age × sex among the 60+.
    age_sex_probs: np.ndarray
    county_shares: np.ndarray
    urban_shares: np.ndarray
    ltc_shares: np.ndarray
    #: people 60+ on 1 January of the start year (real people)
    start_60plus: float = 0.0
    #: the population base's projection (start ages and entrants by year), or None (flat [entry])
    cohorts: CohortPlan | None = None

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Synthesiser:
        counties = scenario.region.counties
        shares = np.array([c.share_60plus for c in counties])
        age_max = scenario.ability.age_max
        cohorts = cohort_plan(scenario)
        if cohorts is None:
            probs = age_sex_distribution(
                scenario.margins, interpolate_mx(scenario.life_table, np.arange(60, age_max + 1))
            )
            start = float(scenario.region.pop_60plus or 0.0)
        else:
            start = float(cohorts.start_counts.sum())
            probs = cohorts.start_counts / start
        return cls(
            margins=scenario.margins,
            compiled=compile_margins(scenario.margins),
            age_max=age_max,
            age_sex_probs=probs,
            county_shares=shares / shares.sum(),
            urban_shares=np.array([c.urban_share for c in counties]),
            ltc_shares=np.array([c.ltc_insured_share for c in counties]),
            start_60plus=start,
            cohorts=cohorts,
        )

    def attributes(
        self, rng: np.random.Generator, age_years: np.ndarray, sex: np.ndarray
    ) -> dict[str, np.ndarray]:
        """County, residence, attributes and flags for people of given age and sex."""
        return self._attributes(age_years, sex, *self._draws(rng, len(age_years)))

    def _draws(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
        """The random numbers :meth:`_attributes` turns into ``n`` people's attributes, in draw
        order: county, the residence uniforms, one row of uniforms per attribute, the LTC uniforms."""
        county = rng.choice(len(self.county_shares), size=n, p=self.county_shares).astype(np.int16)
        residence_u = rng.random(n)
        # one uniform block per attribute, in draw order: one call for all of them gives the same
        # numbers (nothing else draws in between), with one call's overhead instead of nine
        u = rng.random(n * len(ATTRIBUTE_ORDER), dtype=np.float32).reshape(len(ATTRIBUTE_ORDER), n)
        return county, residence_u, u, rng.random(n)

    def _attributes(
        self,
        age_years: np.ndarray,
        sex: np.ndarray,
        county: np.ndarray,
        residence_u: np.ndarray,
        u: np.ndarray,
        ltc_u: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """:meth:`attributes` from its random numbers (:meth:`_draws`); row by row, so the people
        of several draws can be worked out together (:meth:`entrants_of`)."""
        n = len(age_years)
        residence = (residence_u >= self.urban_shares[county]).astype(np.int8)
        codes: dict[str, np.ndarray] = {
            "age_band": band_index(age_years, self.margins.age_bands),
            "sex": sex,
            "residence": residence,
        }
        for i, name in enumerate(ATTRIBUTE_ORDER):
            codes[name] = self.compiled[name].sample(codes, u[i])
        flags = np.zeros(n, dtype=np.uint8)
        for k, name in enumerate(FLAGS):
            if name in codes:  # a 0/1 code shifted to its bit
                flags |= np.left_shift(codes[name].view(np.uint8), k, dtype=np.uint8)
        ltc = ltc_u < self.ltc_shares[county]
        flags |= np.left_shift(ltc.view(np.uint8), FLAGS.index("ltc_insured"), dtype=np.uint8)
        return {
            "sex": sex.astype(np.int8),
            "county": county,
            "residence": residence,
            "ability": codes["ability"],
            "econ": codes["econ"],
            "family": codes["family"],
            "care_setting": codes["care_setting"],
            "flags": flags,
        }

    def initial(self, rng: np.random.Generator, n: int, weight: float) -> dict[str, np.ndarray]:
        """``n`` people aged 60+ at the start, each standing for ``weight`` real people."""
        n_ages = self.age_sex_probs.shape[0]
        cell = rng.choice(self.age_sex_probs.size, size=n, p=self.age_sex_probs.ravel())
        age_years = (60 + cell // len(SEXES)).astype(np.int16)
        sex = (cell % len(SEXES)).astype(np.int8)
        assert age_years.max(initial=60) < 60 + n_ages
        months = rng.integers(0, MONTHS_PER_YEAR, size=n)
        cols = self.attributes(rng, age_years, sex)
        cols["age_m"] = (age_years * MONTHS_PER_YEAR + months).astype(np.int16)
        cols["weight"] = np.full(n, weight, dtype=np.float32)
        return cols

    def entrants(
        self, rng: np.random.Generator, n: int, male_share: float, weight: float
    ) -> dict[str, np.ndarray]:
        """``n`` people turning 60 this month."""
        return self.entrants_of([(rng, n, male_share, weight)])

    def entrants_of(
        self, months: list[tuple[np.random.Generator, int, float, float]]
    ) -> dict[str, np.ndarray]:
        """The entrants of several months, one after another: for each month its generator, how
        many, the probability that one is a man and the real people each stands for. Each month
        draws from its own generator as :meth:`entrants` would, and the draws are then worked out
        together: the same people, with one pass of the margins for a year instead of twelve
        (model.AgingModel._enter_cohort)."""
        draws = []
        for rng, n, male_share, _ in months:
            sex = (rng.random(n) >= male_share).astype(np.int8)  # 0 = M with prob male_share
            draws.append((sex, *self._draws(rng, n)))
        sex, county, residence_u, u, ltc_u = (
            np.concatenate([d[k] for d in draws], axis=-1) for k in range(5)
        )  # fmt: skip
        total = len(sex)
        cols = self._attributes(np.full(total, 60, dtype=np.int16), sex, county, residence_u, u, ltc_u)
        cols["age_m"] = np.full(total, 60 * MONTHS_PER_YEAR, dtype=np.int16)
        weights = np.array([w for *_, w in months], dtype=np.float32)
        cols["weight"] = np.repeat(weights, [n for _, n, *_ in months])
        return cols


def cohort_plan(scenario: Scenario) -> CohortPlan | None:
    """The region's population base projected over the run with the model's own mortality."""
    base = scenario.population_base
    if base is None:
        return None
    setting = scenario.region.population_base
    assert setting is not None

    def mx_for_year(year: int, ages: np.ndarray) -> np.ndarray:
        return interpolate_mx(scenario.life_table_for(year), ages)

    run = scenario.run
    return project_cohorts(
        base,
        run.start_year,
        run.years,
        scenario.ability.age_max,
        mx_for_year,
        setting.net_migration_rate,
        scenario.population_projection,
        referrer=scenario.path,
    )


def survivorship(mx: np.ndarray) -> np.ndarray:
    """l(x) from 60 for each sex, from single-year death rates ``mx`` of shape (n_ages, 2)."""
    cum = np.vstack([np.zeros((1, mx.shape[1])), np.cumsum(mx, axis=0)[:-1]])
    return np.exp(-cum)


def age_sex_distribution(margins: MarginsFile, mx: np.ndarray) -> np.ndarray:
    """Probabilities over single ages 60..age_max × sex from the margins' age–sex rows.

    Within a band (``"70-79"``) or an open band (``"80+"``, up to age_max) people are spread in
    proportion to life-table survivorship l(x), the stationary-population shape: deaths thin each
    cohort as it ages. Single-year rows are used as given.
    """
    n_ages = mx.shape[0]
    age_max = 60 + n_ages - 1
    lx = survivorship(mx)
    counts = np.zeros((n_ages, len(SEXES)))
    for row in margins.age_sex:
        if row.age.endswith("+"):
            lo, hi = int(row.age[:-1]), age_max
        elif "-" in row.age:
            lo, hi = (int(x) for x in row.age.split("-"))
        else:
            lo = hi = int(row.age)
        lo, hi = max(lo, 60), min(hi, age_max)
        if lo > hi:
            continue
        for s, total in enumerate((row.M, row.F)):
            shape = lx[lo - 60 : hi - 60 + 1, s]
            counts[lo - 60 : hi - 60 + 1, s] += total * shape / shape.sum()
    return counts / counts.sum()
