"""What an ability model implies, computed deterministically (no simulation).

A cohort enters at exact age 60 with the margins' ability distribution (as the simulation's entrants
do) and is propagated month by month with the model's own monthly matrices ``P = expm(Q/12)``. Its
person-years by single year of age, sex and level are the age structure of a **stationary
population**: constant yearly births into age 60 and today's rates forever. Prevalence by age band is
the share of those person-years in each level; life expectancy at 60 is their total.

The approximation: China's real older population is not stationary (cohorts reaching 60 grew, and
mortality fell), so within a wide band such as 85+ the stationary population is slightly older than
the real one. Between single years of age the approximation is exact for the model; only how ages are
weighted within a band differs. Out-of-sample checks over all of 60+ are therefore weighted across
bands by the census 2020 counts (:func:`census_weighted_share`), not by the stationary population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agingsim.ability.intensities import (
    MONTHS_PER_YEAR,
    N_STATES,
    ability_prevalence,
    intensity_matrices,
    interpolate_mx,
)
from agingsim.population.attributes import ABILITY_LEVELS, DEAD, SEXES
from agingsim.scenario.loader import LifeTable
from agingsim.scenario.schema import AbilityModelFile, MarginsFile

#: The cohort is followed to this age (ages above the model's age_max use its last matrix); survival
#: to 130 is below 1e-9 under WPP 2015-2020 rates.
TOP_AGE = 130


@dataclass(frozen=True)
class FixedInputs:
    """Everything held fixed while parameters change: ages, death rates, margins-derived arrays."""

    age_max: int
    #: (n_ages, 2) single-year m(x) at ages 60..age_max (interpolated as the simulation does).
    mx: np.ndarray
    #: (n_ages, 2, 5) the margins' prevalence, used by the model to split m(x) across levels.
    margin_prevalence: np.ndarray
    #: (2, 5) ability distribution of people entering at 60 (the margins' first band).
    entry: np.ndarray
    #: (2,) share of men and women among people turning 60 (weights for both-sexes figures).
    sex_share: np.ndarray

    @property
    def ages(self) -> np.ndarray:
        return np.arange(60, self.age_max + 1)


def fixed_inputs(
    margins: MarginsFile, life_table: LifeTable, age_max: int, urban_share: float
) -> FixedInputs:
    ages = np.arange(60, age_max + 1)
    prevalence = ability_prevalence(margins, ages, urban_share)
    first = margins.age_sex[0]
    men, women = float(first.M), float(first.F)
    return FixedInputs(
        age_max=age_max,
        mx=interpolate_mx(life_table, ages),
        margin_prevalence=prevalence,
        entry=prevalence[0],
        sex_share=np.array([men, women]) / (men + women),
    )


@dataclass(frozen=True)
class Implied:
    """A model's stationary population: person-years by single age 60..TOP_AGE-1, sex and level."""

    #: (n_years, 2, 5) person-years lived at each single year of age per entrant at 60, by sex.
    person_years: np.ndarray
    #: (n_years + 1, 2) share of entrants alive at each exact age 60..TOP_AGE, by sex.
    survivors: np.ndarray
    #: (n_ages, 2, 6, 6) intensities per person-year, ages 60..age_max.
    intensities: np.ndarray
    sex_share: np.ndarray

    @property
    def e60(self) -> np.ndarray:
        """Life expectancy at 60 by sex (M, F)."""
        return self.person_years.sum(axis=(0, 2))

    def _rows(self, lo: int, hi: int | None) -> slice:
        return slice(lo - 60, None if hi is None else hi - 60)

    def prevalence(self, lo: int, hi: int | None) -> np.ndarray:
        """(2, 5) share of each level among people aged lo..hi-1 (``hi=None``: open), by sex."""
        py = self.person_years[self._rows(lo, hi)].sum(axis=0)
        return py / py.sum(axis=-1, keepdims=True)

    def prevalence_both(self, lo: int, hi: int | None) -> np.ndarray:
        """(5,) as :meth:`prevalence`, both sexes, weighted by the stationary population."""
        py = (self.person_years[self._rows(lo, hi)].sum(axis=0) * self.sex_share[:, None]).sum(axis=0)
        return py / py.sum()

    def band_prevalence(self, edges: list[int] | tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``(by_sex (n_bands, 2, 5), both (n_bands, 5))`` for bands with lower edges ``edges``."""
        bounds = [*zip(edges, [*edges[1:], None], strict=True)]
        by_sex = np.stack([self.prevalence(lo, hi) for lo, hi in bounds])
        both = np.stack([self.prevalence_both(lo, hi) for lo, hi in bounds])
        return by_sex, both

    def onset_rate(
        self, lo: int, from_levels: list[str], to_levels: list[str], hi: int | None = None
    ) -> float:
        """Yearly rate of moving from any of ``from_levels`` into any of ``to_levels`` at ages lo..hi-1
        (``hi=None``: open), per person-year spent in ``from_levels`` (both sexes, stationary weights)."""
        i = [ABILITY_LEVELS.index(x) for x in from_levels]
        j = [ABILITY_LEVELS.index(x) for x in to_levels]
        n_ages = self.intensities.shape[0]
        py = self.person_years[self._rows(lo, hi)] * self.sex_share[None, :, None]
        age_idx = np.minimum(np.arange(lo - 60, lo - 60 + len(py)), n_ages - 1)
        q = self.intensities[age_idx]  # (n, 2, 6, 6)
        flow = np.einsum("asi,asi->", py[:, :, i], q[:, :, i][:, :, :, j].sum(axis=-1))
        return float(flow / py[:, :, i].sum())

    def rate_at(self, age: int, sex: int, from_levels: list[str], to_levels: list[str]) -> float:
        """As :meth:`onset_rate` at one single year of age and sex (0 = M, 1 = F)."""
        i = [ABILITY_LEVELS.index(x) for x in from_levels]
        j = [ABILITY_LEVELS.index(x) for x in to_levels]
        py = self.person_years[age - 60, sex, i]
        q = self.intensities[min(age - 60, self.intensities.shape[0] - 1), sex]
        return float(py @ q[i][:, j].sum(axis=-1) / py.sum())

    def death_ratio_at(self, age: int, sex: int, disabled: list[str], healthy: list[str]) -> float:
        """Death rate of people in ``disabled`` over that of people in ``healthy`` at one age and sex
        (each averaged over its levels by person-years)."""

        def rate(levels: list[str]) -> float:
            i = [ABILITY_LEVELS.index(x) for x in levels]
            py = self.person_years[age - 60, sex, i]
            q = self.intensities[min(age - 60, self.intensities.shape[0] - 1), sex]
            return float(py @ q[i, DEAD] / py.sum())

        return rate(disabled) / rate(healthy)


def expm_batched(a: np.ndarray, order: int = 18) -> np.ndarray:
    """exp(A) for a stack of small matrices: scaling and squaring with a Taylor polynomial.

    The same matrices as ``scipy.linalg.expm`` (to ~1e-14 here), but as a few batched numpy products:
    scipy's per-matrix LAPACK calls cost ~100× more for 6×6 matrices, which matters when a fit
    evaluates the model thousands of times. After scaling the norm is ≤ 0.5, where the truncation error
    of order 18 is below 1e-22.
    """
    norm = float(np.abs(a).sum(axis=-1).max()) if a.size else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0.5 else 0
    x = a / 2.0**squarings
    result = np.broadcast_to(np.eye(a.shape[-1]), a.shape) + x
    term = x
    for k in range(2, order + 1):
        term = term @ x / k
        result = result + term
    for _ in range(squarings):
        result = result @ result
    return result


def monthly(q: np.ndarray) -> np.ndarray:
    """Monthly transition matrices P = expm(Q/12), as :func:`agingsim.ability.monthly_matrices`."""
    p = np.clip(expm_batched(q / MONTHS_PER_YEAR), 0.0, 1.0)
    return p / p.sum(axis=-1, keepdims=True)


def implied(params: AbilityModelFile, fixed: FixedInputs) -> Implied:
    """The stationary population of ``params`` (see the module docstring)."""
    ages = fixed.ages
    q = intensity_matrices(params, fixed.mx, fixed.margin_prevalence, ages)
    p = monthly(q)
    # Per single year of age: the year's transition matrix P^12 and the person-years operator
    # A = Σ_m (P^m + P^{m+1}) / 24 (trapezoid over each month), so the cohort moves a year at a time.
    power = np.broadcast_to(np.eye(N_STATES), p.shape).copy()
    years_op = np.zeros_like(p)
    for _ in range(MONTHS_PER_YEAR):
        nxt = power @ p
        years_op += (power + nxt) / (2 * MONTHS_PER_YEAR)
        power = nxt
    state = np.zeros((len(SEXES), N_STATES))
    state[:, :DEAD] = fixed.entry
    out = np.empty((TOP_AGE - 60, len(SEXES), len(ABILITY_LEVELS)))
    alive = np.empty((TOP_AGE - 60 + 1, len(SEXES)))
    last = len(ages) - 1
    for k in range(TOP_AGE - 60):
        a = min(k, last)
        alive[k] = state[:, :DEAD].sum(axis=-1)
        out[k] = np.einsum("si,sij->sj", state, years_op[a])[:, :DEAD]
        state = np.einsum("si,sij->sj", state, power[a])
    alive[-1] = state[:, :DEAD].sum(axis=-1)
    return Implied(person_years=out, survivors=alive, intensities=q, sex_share=fixed.sex_share)


def life_table_e60(life_table: LifeTable, age_max: int | None = None) -> np.ndarray:
    """e60 by sex (M, F) of the life table.

    ``age_max=None``: the abridged table as published, m(x) constant within each 5-year group and the
    open last group living ``1/m`` years on average (the standard closing). With ``age_max``: the
    single-year rates the model itself uses (:func:`interpolate_mx`, log-linear between group
    midpoints, ages above ``age_max`` at its rate), which is what an ability model that splits m(x)
    exactly would reproduce.
    """
    out = np.empty(len(SEXES))
    if age_max is not None:
        mx = interpolate_mx(life_table, np.minimum(np.arange(60, TOP_AGE), age_max))
        for s in range(len(SEXES)):
            surv = np.concatenate([[1.0], np.exp(-np.cumsum(mx[:, s]))])
            out[s] = float(((surv[:-1] - surv[1:]) / mx[:, s]).sum())
        return out
    for s, sex in enumerate(SEXES):
        rows = life_table.rates[(life_table.rates["sex"] == sex) & (life_table.rates["age_lower"] >= 60)]
        rows = rows.sort_values("age_lower")
        lower = rows["age_lower"].to_numpy(int)
        m = rows["mx"].to_numpy(float)
        width = np.diff(lower)
        surv, e = 1.0, 0.0
        for mm, w in zip(m[:-1], width, strict=True):
            e += surv * (1.0 - np.exp(-w * mm)) / mm
            surv *= np.exp(-w * mm)
        out[s] = e + surv / m[-1]
    return out


def census_weighted_share(
    imp: Implied, levels: list[str], counts: dict[tuple[int, int | None], tuple[float, float]]
) -> float:
    """Share of people in ``levels`` among 60+, weighting each census band × sex by its count.

    ``counts`` maps ``(lo, hi)`` (``hi=None`` for an open band) to (men, women); within a band, ages
    are weighted by the stationary population.
    """
    cols = [ABILITY_LEVELS.index(x) for x in levels]
    num = den = 0.0
    for (lo, hi), by_sex in counts.items():
        prev = imp.prevalence(lo, hi)
        for s, n in enumerate(by_sex):
            num += n * prev[s, cols].sum()
            den += n
    return num / den
