"""Transition intensities between the five ability levels and death, and monthly probabilities.

The intensity matrix Q(age, sex) (per person-year) is built from the ability-model file; the monthly
transition matrix is P = expm(Q / 12) (scipy), computed once per single year of age and sex, never per
person, and kept in a disk cache keyed by Q (ability.matrix_cache), so a repeat run skips scipy.
Death intensities by level are ``m(x) × HR_level / Σ_j π_j(x) HR_j``: the life table's
all-cause rate m(x), split across levels by hazard ratios so that a population with the margins'
ability prevalence π(x) dies at exactly the life-table rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from agingsim.ability.matrix_cache import cached_matrices
from agingsim.population.attributes import ABILITY_LEVELS, DEAD, SEXES
from agingsim.population.margins import band_index, compile_margin
from agingsim.scenario.loader import LifeTable, Scenario
from agingsim.scenario.schema import AbilityModelFile, MarginsFile
from agingsim.startup import NUMPY_DEFERRED, defer_lazy_submodules

N_STATES = len(ABILITY_LEVELS) + 1  # five levels + dead
MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class AbilityModel:
    """Per-(age, sex) intensity and monthly transition matrices, ready for vectorised sampling."""

    age_min: int
    age_max: int
    #: (n_ages, 2, 6, 6) intensities per person-year.
    intensities: np.ndarray
    #: (n_ages, 2, 6, 6) monthly transition probabilities, rows sum to 1.
    monthly: np.ndarray
    #: Sampling tables indexed by cell = (age_idx * 2 + sex) * 6 + state, each state's row
    #: reordered to put "stay" first: ``stay[cell]`` is P(no change) and ``cumulative[cell]`` the
    #: cumulative probabilities of ``order[cell]`` (5 columns; the last state closes at 1).
    stay: np.ndarray
    cumulative: np.ndarray
    order: np.ndarray
    #: calendar year → that year's tables, precomputed for the run's years when mortality changes
    #: with calendar time (a scenario's ``[mortality]``); empty for a fixed life table.
    by_year: dict[int, AbilityModel] = field(default_factory=dict, repr=False, compare=False)
    #: (n_ages, 2, 5) ability mix by age and sex that the death split uses: Σ_level mix × death
    #: intensity = the life table's m(x) (the margins' mix, or the year's projected mix)
    mix: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n_ages(self) -> int:
        return self.age_max - self.age_min + 1

    def age_index(self, age_years: np.ndarray) -> np.ndarray:
        return np.clip(age_years, self.age_min, self.age_max) - self.age_min

    def for_year(self, year: int) -> AbilityModel:
        """The tables in force in calendar ``year``.

        The model asks for them each 1 January. With calendar-time mortality each year has its own
        death intensities (so its own ``monthly``/``stay``/``cumulative``/``order``, same meaning);
        years outside the precomputed run take the nearest one. A fixed life table returns itself."""
        if not self.by_year:
            return self
        if year in self.by_year:
            return self.by_year[year]
        years = sorted(self.by_year)
        return self.by_year[years[0] if year < years[0] else years[-1]]


def interpolate_mx(life_table: LifeTable, ages: np.ndarray) -> np.ndarray:
    """Single-year m(x) at ``ages + 0.5`` by sex, log-linear between 5-year group midpoints.

    Returns an array (len(ages), 2) in the order of ``SEXES``.
    """
    out = np.empty((len(ages), len(SEXES)))
    for s, (mid, logm) in enumerate(life_table.log_rates):
        x = ages + 0.5
        val = np.interp(x, mid, logm)
        # beyond the last midpoint, continue the last Gompertz slope
        slope = (logm[-1] - logm[-2]) / (mid[-1] - mid[-2])
        beyond = x > mid[-1]
        val[beyond] = logm[-1] + slope * (x[beyond] - mid[-1])
        out[:, s] = np.exp(val)
    return out


def ability_prevalence(margins: MarginsFile, ages: np.ndarray, urban_share: float) -> np.ndarray:
    """π(level | age, sex) from the ability margin, residence averaged at the region's urban share.

    Returns (len(ages), 2, 5).
    """
    margin = compile_margin("ability", margins.attributes["ability"], margins.band_labels())
    n = len(ages)
    prev = np.zeros((n, len(SEXES), len(ABILITY_LEVELS)))
    for s in range(len(SEXES)):
        for r, w in enumerate((urban_share, 1.0 - urban_share)):
            codes = {
                "age_band": band_index(ages, margins.age_bands),
                "sex": np.full(n, s),
                "residence": np.full(n, r),
            }
            prev[:, s, :] += w * margin.probs[margin.cell_index(codes, n)]
    return prev


def scale_onset(params: AbilityModelFile, factor: float) -> AbilityModelFile:
    """``params`` with every onset and progression rate (towards a worse level) × ``factor``."""
    if factor == 1.0:
        return params
    transitions = [
        t.model_copy(update={"rate_60": t.rate_60 * factor})
        if ABILITY_LEVELS.index(t.to) > ABILITY_LEVELS.index(t.from_)
        else t
        for t in params.transitions
    ]
    return params.model_copy(update={"transitions": transitions})


def onset_trend_applied(params: AbilityModelFile) -> bool:
    """Whether the file's onset rates move with calendar time (a non-zero trend marked ``applied``)."""
    trend = params.onset_trend
    return trend is not None and trend.applied and trend.per_year != 0.0


def rates_in_year(params: AbilityModelFile, year: int) -> AbilityModelFile:
    """The rates in force in calendar ``year``: the file's, moved by its onset trend when applied."""
    trend = params.onset_trend
    if trend is None or not onset_trend_applied(params):
        return params
    return scale_onset(params, math.exp(trend.per_year * (year - trend.reference_year)))


def hazard_ratios(params: AbilityModelFile, ages: np.ndarray) -> np.ndarray:
    """Death-rate ratio of each level to intact by single age, (n_ages, 5).

    The excess over intact (``hazard_ratio − 1``) shrinks or grows log-linearly with age at
    ``mortality.hazard_ratio_age_slope``, so the ratios stay ≥ 1 and ordered by level at every age;
    a slope of 0 gives the file's constant ratios exactly."""
    hr = np.array([params.mortality.hazard_ratio[lv] for lv in ABILITY_LEVELS], dtype=float)
    slope = params.mortality.hazard_ratio_age_slope
    if slope == 0.0:
        return np.broadcast_to(hr, (len(ages), len(hr)))
    ref = hr[0]
    factor = np.exp(slope * (np.asarray(ages, dtype=float) + 0.5 - 60.0))[:, None]
    return ref + (hr[None, :] - ref) * factor


def intensity_matrices(
    params: AbilityModelFile, mx: np.ndarray, prevalence: np.ndarray, ages: np.ndarray
) -> np.ndarray:
    """Q(age, sex) per person-year, shape (n_ages, 2, 6, 6)."""
    q = np.zeros((len(ages), len(SEXES), N_STATES, N_STATES))
    for t in params.transitions:
        i, j = ABILITY_LEVELS.index(t.from_), ABILITY_LEVELS.index(t.to)
        base = t.rate_60 * np.exp(t.age_slope * (ages + 0.5 - 60.0))
        q[:, 0, i, j] = base
        q[:, 1, i, j] = base * t.female_rr
    hr = hazard_ratios(params, ages)[:, None, :]  # (n_ages, 1, 5)
    norm = (prevalence * hr).sum(axis=-1)  # (n_ages, 2)
    q[:, :, :DEAD, DEAD] = mx[:, :, None] * hr / norm[:, :, None]
    idx = np.arange(N_STATES)
    q[:, :, idx, idx] = -q.sum(axis=-1)
    return q


def expm(a: np.ndarray) -> np.ndarray:
    """scipy.linalg.expm, imported on first use after numpy's unused submodules are deferred
    (scipy.linalg's import would otherwise load numpy.f2py: startup.py)."""
    defer_lazy_submodules("numpy", NUMPY_DEFERRED)
    from scipy.linalg import expm as scipy_expm

    return scipy_expm(a)


def transition_matrices(q: np.ndarray, dt_years: float) -> np.ndarray:
    """P(dt) = expm(Q·dt) for every (age, sex) cell: the exact solution of the Kolmogorov equations."""
    p = np.empty_like(q)
    for a in range(q.shape[0]):
        for s in range(q.shape[1]):
            p[a, s] = expm(q[a, s] * dt_years)
    p = np.clip(p, 0.0, 1.0)  # expm can return -1e-17 where the exact value is 0
    return p / p.sum(axis=-1, keepdims=True)


def monthly_matrices(q: np.ndarray) -> np.ndarray:
    """P = expm(Q / 12): one month."""
    return transition_matrices(q, 1.0 / MONTHS_PER_YEAR)


def monthly_matrices_stacked(q: np.ndarray) -> np.ndarray:
    """P = expm(Q / 12) in one stacked scipy call: the calendar-time path builds ~40 sets of tables, and
    the per-cell loop of :func:`transition_matrices` would cost seconds. Equal to it to round-off
    (~1e-16), not bit for bit, so the fixed-table path keeps the loop and its outputs stay the same."""
    p = np.clip(expm(q / MONTHS_PER_YEAR), 0.0, 1.0)
    return p / p.sum(axis=-1, keepdims=True)


def build_ability_model(scenario: Scenario) -> AbilityModel:
    """The scenario's ability model: intensities, monthly matrices and sampling tables.

    With calendar-time mortality (``scenario.mortality``) the tables of every run year are built
    here once (about 100 small matrix exponentials a year), and :meth:`AbilityModel.for_year`
    hands them out; the returned model itself holds the start year's tables. Each year's split of
    m(x, year) across levels uses the ability mix the model itself expects at each age and sex during
    that year (the mean of its 1 January mixes of that year and the next, :func:`next_year_mix`,
    starting from the margins' mix, which is how the people are drawn), so that the population keeps
    dying at the year's life-table rate as falling mortality shifts its mix; with a fixed life table
    the margins' mix is used, as before. An applied calendar trend in onset (the file's
    ``onset_trend``) also gives each run year its own tables, onset rates moved to that year."""
    params = scenario.ability
    ages = np.arange(60, params.age_max + 1)
    urban = sum(c.share_60plus * c.urban_share for c in scenario.region.counties)
    prevalence = ability_prevalence(scenario.margins, ages, urban)

    run = scenario.run

    def tables(
        life_table: LifeTable, mix: np.ndarray, year: int = run.start_year, stacked: bool = True
    ) -> AbilityModel:
        mx = interpolate_mx(life_table, ages)
        q = intensity_matrices(rates_in_year(params, year), mx, mix, ages)
        p = cached_matrices(q, monthly_matrices_stacked if stacked else monthly_matrices)
        stay, cum, order = sampling_tables(p)
        return AbilityModel(60, params.age_max, q, p, stay, cum, order, mix=mix)

    if scenario.mortality is None and not onset_trend_applied(params):
        return tables(scenario.life_table, prevalence, stacked=False)
    years = range(run.start_year, run.start_year + run.years)
    if scenario.mortality is None:
        # fixed life table, calendar trend in onset: each year its own onset rates, the margins' mix
        by_year = {y: tables(scenario.life_table, prevalence, y) for y in years}
    else:
        by_year = _mortality_by_year(scenario, years, prevalence, tables)
    first = by_year[run.start_year]
    return AbilityModel(
        first.age_min, first.age_max, first.intensities, first.monthly, first.stay,
        first.cumulative, first.order, by_year=by_year, mix=first.mix,
    )  # fmt: skip


def _mortality_by_year(
    scenario: Scenario,
    years: range,
    prevalence: np.ndarray,
    tables: Callable[[LifeTable, np.ndarray, int], AbilityModel],
) -> dict[int, AbilityModel]:
    """Each run year's tables under calendar-time mortality (see :func:`build_ability_model`)."""
    by_year: dict[int, AbilityModel] = {}
    mix = prevalence
    # people in an age cell during a year are, on average, between its 1 January mix and the next
    # one: the split uses the mean of the two, the next one predicted with the previous year's
    # matrices (for the first year, those of the margins' mix)
    previous = tables(scenario.life_table_for(years[0]), mix, years[0]).monthly
    for y in years:
        mid = (mix + next_year_mix(mix, previous, prevalence[0])) / 2
        by_year[y] = tables(scenario.life_table_for(y), mid, y)
        previous = by_year[y].monthly
        mix = next_year_mix(mix, previous, prevalence[0])
    return by_year


def next_year_mix(mix: np.ndarray, monthly: np.ndarray, entry_mix: np.ndarray) -> np.ndarray:
    """Expected ability mix (n_ages, 2, 5) by single age a year on: each age's survivors after 12
    months move up one year (the top age keeps its own); the new 60-year-olds enter with the margins'
    mix at 60 (``entry_mix``, (2, 5)) and have spent half a year there on average."""
    n_ages = mix.shape[0]
    state = np.concatenate([mix, np.zeros((*mix.shape[:-1], 1))], axis=-1)
    year = np.linalg.matrix_power(monthly, MONTHS_PER_YEAR)
    alive = np.einsum("asi,asij->asj", state, year)[..., :DEAD]
    out = np.empty_like(mix)
    out[1:] = alive[: n_ages - 1]
    out[-1] = alive[-1] + alive[-2]
    half = np.linalg.matrix_power(monthly[0], MONTHS_PER_YEAR // 2)
    entry = np.concatenate([entry_mix, np.zeros((entry_mix.shape[0], 1))], axis=-1)
    out[0] = np.einsum("si,sij->sj", entry, half)[:, :DEAD]
    return out / out.sum(axis=-1, keepdims=True)


def sampling_tables(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flattened per-cell tables with each state's own column first (see :class:`AbilityModel`)."""
    rows = p.reshape(-1, N_STATES)
    state = np.tile(np.arange(N_STATES), rows.shape[0] // N_STATES)
    others = np.array([[j for j in range(N_STATES) if j != s] for s in range(N_STATES)])
    order = np.concatenate([state[:, None], others[state]], axis=1).astype(np.int8)
    reordered = np.take_along_axis(rows, order.astype(np.intp), axis=1)
    cum = np.cumsum(reordered, axis=1)[:, :-1].astype(np.float32)
    return np.ascontiguousarray(cum[:, 0]), cum, order
