"""Published disability figures from several sources and waves, each with a standard error, a year and
whether it is used to fit or kept to check.

Sources (calibration/data/): CLHLS ADL impairment by band and grade for the waves 2011, 2014 and 2018
(China CDC Weekly 2023, Table 2, with the wave's respondents by band from its Table 1); the female/male
ratio of ADL impairment at 65+ per wave; the 2015 sample survey's 失能半失能 at 60+; CLHLS onset and
recovery intensities of ADL disability by single age and sex (Fu, Sherris & Xu 2021); CLHLS incidence
of ADL disability (Li et al. 2019), CHNS ADL disability 1997/2006 and the NHSA figure. Each maps onto
GB/T levels through :mod:`agingsim.calibration.measures`.

**Held out:** the whole CLHLS 2014 wave (:data:`HOLD_OUT_WAVE`) is never fitted; the report predicts
it. Incidence (Li et al.), CHNS and NHSA are checks too (their age weights or definitions are not
those of a band of the model).

**Standard errors:** sampling error of a CLHLS band is binomial with the wave's respondents in the
band and a design effect :data:`DESIGN_EFFECT` (clustered, weighted sample), combined with a
structural error :data:`STRUCTURAL_REL` of the figure (the model's stationary age weights within a
band and its crude calendar trend are approximations of the real population). Other errors are
stated per figure (:data:`SURVEY_SE`, :data:`RATE_REL_SE`); all are labelled assumptions.

**Calendar time:** optionally (``trend``), every onset and progression rate is multiplied by
``exp(τ × (year − REF_YEAR))`` and each figure is compared with the model's stationary population at
the rates of its own year, so the waves' differences estimate τ. The fitted file holds the rates of
:data:`REF_YEAR` and states τ in its ``[onset_trend]`` table; the simulation applies it only where
that table says ``applied`` (:func:`agingsim.ability.intensities.rates_in_year`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from agingsim.ability.intensities import scale_onset
from agingsim.calibration.measures import measure
from agingsim.calibration.stationary import FixedInputs, Implied, census_weighted_share, implied
from agingsim.calibration.targets import SEX_RATIO_UNIT, published, read_data, short_source
from agingsim.scenario.schema import AbilityModelFile

#: Year whose rates the fitted file holds (the latest CLHLS wave, on which the margins rest).
REF_YEAR = 2018
#: The CLHLS wave kept out of the fit and predicted by the report.
HOLD_OUT_WAVE = 2014
FIT_WAVES = (2011, 2018)
#: Design effect of a CLHLS band's prevalence (assumption: clustered sampling with weights roughly
#: doubles the variance of a simple random sample of the same size).
DESIGN_EFFECT = 2.0
#: Structural error, relative to the figure (assumption, see the module docstring).
STRUCTURAL_REL = 0.10
#: Standard error of the 2015 survey's 失能半失能 share and of NHSA/CHNS 60+ shares (assumption: the
#: definitions are not published at item level, so ±1 percentage point stands for the definition).
SURVEY_SE = 0.01
#: Relative standard error of the Fu-Sherris-Xu intensities and the Li et al. incidences (assumption:
#: their confidence intervals were not copied; the authors' own static and 2014-trend variants differ
#: by a factor of two or more at 70, calibration/data/clhls_fu_sherris_xu_rates.csv, so the static
#: rates are given a wide 30%).
RATE_REL_SE = 0.30
#: Mid-year of the Fu-Sherris-Xu estimation period (CLHLS 1998-2014).
FSX_YEAR = 2006
#: SE on the log scale of the Fu-Sherris-Xu death-rate ratio disabled/healthy (assumption, as
#: RATE_REL_SE: the ratio, unlike each rate, is close between their model variants).
DEATH_RATIO_LOG_SE = 0.2
FSX_AGES = (70, 80, 90)
#: Prior SD of the onset trend τ per year.
TREND_PRIOR_SD = 0.05
TREND_BOUNDS = (-0.15, 0.15)

#: Why Fu-Sherris-Xu recovery is a check, not a target.
RECOVERY_NOTE = (
    "not fitted: the model already uses this recovery rate itself for GB/T moderate→mild (sourced in "
    "calibration/ability/default.toml), while people at severe or complete recover only a level at a "
    "time, so the model's recovery out of moderate-or-worse as a whole runs below the two-state rate"
)

#: Why the Fu-Sherris-Xu onset at 90 and the CLHLS 85+ prevalence cannot both be met.
ONSET_NOTE = (
    "onset at 90 runs above Fu, Sherris & Xu's: the CLHLS waves' 85+ prevalence (fitted too) is higher "
    "than their low onset at the oldest ages and their death-rate ratios imply under one model, so the "
    "fit raises onset at 90 to approach the 85+ prevalence; the two CLHLS-based sources (a two-state "
    "model pooled over 1998-2014 vs the 2011 and 2018 cross-sections) disagree at the oldest ages"
)
#: Why CLHLS bands of the fitted waves miss in opposite directions.
CLHLS_NOTE = (
    "the fitted waves moved differently by age: from 2011 to 2018 the 65-84 rows fell (75-84 ADL "
    "moderate 6.5% → 4.7%) while 85+ rose (ADL moderate 21.2% → 23.1%); one calendar trend for all "
    "ages cannot follow both, so the fit splits the difference: 2018 runs high at 65-84 and both waves "
    "low at 85+ (the same pattern as the held-out 2014 wave, which it predicts within its errors)"
)

BANDS: dict[str, tuple[int, int | None]] = {"65-74": (65, 75), "75-84": (75, 85), "85+": (85, None)}
GRADES = {"mild": "clhls_adl_mild", "moderate": "clhls_adl_moderate", "severe": "clhls_adl_severe"}


@dataclass(frozen=True)
class Figure:
    """One published figure and how the model is compared with it."""

    id: str
    name: str
    measure: str
    kind: Literal["prevalence", "rate", "ratio", "death_ratio"]
    year: float
    value: float  # proportion, per person-year, or a ratio
    se: float
    source: str
    use: Literal["fit", "check"]
    lo: int = 60
    hi: int | None = None
    sex: int | None = None  # 0 = M, 1 = F, None = both
    age: int | None = None  # a single year of age (rates)
    weighting: Literal["stationary", "census"] = "stationary"
    se_note: str = ""
    note: str = ""

    @property
    def unit(self) -> str:
        return {"prevalence": "%", "rate": "per 1,000 person-years"}.get(self.kind, "ratio")

    @property
    def scale(self) -> float:
        return {"prevalence": 100.0, "rate": 1000.0}.get(self.kind, 1.0)

    @property
    def group(self) -> str:
        return self.id.split(".")[0]


def at_year(params: AbilityModelFile, trend: float, year: float) -> AbilityModelFile:
    """``params`` with onset and progression rates (towards a worse level) moved to ``year``."""
    if trend == 0.0 or year == REF_YEAR:
        return params
    return scale_onset(params, math.exp(trend * (year - REF_YEAR)))


def model_value(fig: Figure, imp: Implied, counts: dict) -> float:
    """The model's figure comparable with ``fig`` (same unit as ``fig.value``)."""
    m = measure(fig.measure)
    if fig.kind == "rate":
        if fig.age is not None and fig.sex is not None:
            return imp.rate_at(fig.age, fig.sex, list(m.from_), list(m.to))
        return imp.onset_rate(fig.lo, list(m.from_), list(m.to), fig.hi)
    if fig.kind == "death_ratio":
        assert fig.age is not None and fig.sex is not None
        return imp.death_ratio_at(fig.age, fig.sex, list(m.to), list(m.from_))
    if fig.kind == "ratio":
        prev = m.of(imp.prevalence(fig.lo, fig.hi))
        return float(prev[1] / prev[0])
    if fig.weighting == "census":
        return census_weighted_share(imp, list(m.levels), counts)
    if fig.sex is None:
        return float(m.of(imp.prevalence_both(fig.lo, fig.hi)))
    return float(m.of(imp.prevalence(fig.lo, fig.hi)[fig.sex]))


def residual(fig: Figure, value: float) -> float:
    """Standardised error of the model's value (log scale for ratios)."""
    if fig.kind == "ratio":
        return math.log(value / fig.value) / SEX_RATIO_UNIT
    if fig.kind == "death_ratio":
        return math.log(value / fig.value) / fig.se
    return (value - fig.value) / fig.se


def values(
    figures: tuple[Figure, ...], params: AbilityModelFile, trend: float, fixed: FixedInputs, counts: dict
) -> np.ndarray:
    """Model values of ``figures``, each at its year's rates (one stationary population per year)."""
    cache: dict[float, Implied] = {}
    out = np.empty(len(figures))
    for k, fig in enumerate(figures):
        year = fig.year if trend else REF_YEAR
        if year not in cache:
            cache[year] = implied(at_year(params, trend, year), fixed)
        out[k] = model_value(fig, cache[year], counts)
    return out


def _clhls_se(p: float, n: float) -> float:
    return math.sqrt(p * (1 - p) * DESIGN_EFFECT / n + (STRUCTURAL_REL * p) ** 2)


CLHLS_SE_NOTE = (
    f"binomial with the wave's respondents in the band × design effect {DESIGN_EFFECT:g}, and "
    f"{100 * STRUCTURAL_REL:.0f}% structural error (assumptions)"
)


def _use(year: int) -> Literal["fit", "check"]:
    return "check" if year == HOLD_OUT_WAVE else "fit"


def published_figures() -> tuple[Figure, ...]:
    """Every published disability figure the fit or the report uses (see the module docstring)."""
    data = read_data("disability_prevalence.csv")
    sizes = read_data("clhls_sample_sizes.csv")
    figs: list[Figure] = []
    for year in sorted((*FIT_WAVES, HOLD_OUT_WAVE)):
        for band, (lo, hi) in BANDS.items():
            n, _ = _n(sizes, year, band)
            for grade, mid in [*GRADES.items(), ("any", "clhls_adl_any")]:
                if grade == "any" and year != HOLD_OUT_WAVE:
                    continue  # the sum of the three grades: fitted through them
                pct, src = published(
                    data,
                    survey="CLHLS",
                    year=year,
                    age_band=band,
                    sex="all",
                    measure=f"adl_impairment_{grade}_pct",
                )
                p = pct / 100
                figs.append(
                    Figure(
                        f"clhls{year}.{band}.{grade}",
                        f"CLHLS {year}: ADL impairment {grade}, {band}",
                        mid,
                        "prevalence",
                        year,
                        p,
                        _clhls_se(p, n),
                        short_source(src, 120),
                        _use(year),
                        lo,
                        hi,
                        se_note=CLHLS_SE_NOTE,
                        note=CLHLS_NOTE,
                    )
                )
        men, src = published(
            data, survey="CLHLS", year=year, age_band="65+", sex="M", measure="adl_impairment_any_pct"
        )
        women, _ = published(
            data, survey="CLHLS", year=year, age_band="65+", sex="F", measure="adl_impairment_any_pct"
        )
        figs.append(
            Figure(
                f"clhls{year}.sexratio",
                f"CLHLS {year}: female/male ratio of any ADL impairment, 65+",
                "clhls_adl_any",
                "ratio",
                year,
                women / men,
                SEX_RATIO_UNIT * women / men,
                short_source(src, 120),
                _use(year),
                65,
                None,
                se_note=f"{100 * SEX_RATIO_UNIT:.0f}% on the log scale (assumption)",
            )
        )
    pct, src = published(data, year=2015, age_band="60+", measure="disabled_or_semidisabled_pct")
    figs.append(
        Figure(
            "survey2015.60+",
            "2015 4th sample survey: disabled or semi-disabled (失能半失能), 60+",
            "survey2015_disabled_semidisabled",
            "prevalence",
            2015,
            pct / 100,
            SURVEY_SE,
            short_source(src, 120),
            "fit",
            weighting="census",
            se_note="±1 pp for the unpublished definition (assumption); sampling error negligible",
            note="60+ weighted by the margins' census 2020 counts by band",
        )
    )
    figs += _fsx_figures()
    for year, mid_year in ((2002, 2005), (2008, 2011)):
        rate, src = published(data, survey="CLHLS", year=year, measure="adl_disability_incidence_per_1000py")
        figs.append(
            Figure(
                f"li2019.{year}",
                f"CLHLS {year} cohort: incidence of ADL disability, 65+",
                "adl_onset",
                "rate",
                mid_year,
                rate / 1000,
                RATE_REL_SE * rate / 1000,
                short_source(src, 120),
                "check",
                65,
                None,
                se_note=f"{100 * RATE_REL_SE:.0f}% relative (assumption)",
                note="crude rate over the cohort's own ages, which over-sample the oldest old (whose "
                "onset is highest); the model weights ages 65+ by its stationary population: it runs lower",
            )
        )
    for year in (1997, 2006):
        pct, src = published(data, survey="CHNS", year=year, measure="adl_disability_pct")
        figs.append(
            Figure(
                f"chns.{year}",
                f"CHNS {year}: ADL disability, 60+",
                "chns_adl_disability",
                "prevalence",
                year,
                pct / 100,
                SURVEY_SE,
                short_source(src, 120),
                "check",
                weighting="census",
                se_note="±1 pp (assumption)",
            )
        )
    pct, src = published(data, year=2024, age_band="60+", measure="disabled_pct")
    figs.append(
        Figure(
            "nhsa.2024",
            "NHSA (c. 2024): older people with disabilities (失能), 60+",
            "nhsa_disabled",
            "prevalence",
            2024,
            pct / 100,
            SURVEY_SE,
            short_source(src, 120),
            "check",
            weighting="census",
            se_note="±1 pp for the unstated definition (assumption)",
            note="definition not stated; read as ADL-based (calibration/mappings/disability_measures.toml)",
        )
    )
    return tuple(figs)


def _n(sizes: pd.DataFrame, year: int, band: str) -> tuple[float, str]:
    rows = sizes[(sizes["year"] == year) & (sizes["age_band"] == band)]
    return float(rows.iloc[0]["n"]), str(rows.iloc[0]["source"])


def _fsx_figures() -> list[Figure]:
    rates = read_data("clhls_fu_sherris_xu_rates.csv")
    rates = rates[rates["model"] == "static"]
    src = short_source(str(rates["source"].iloc[0]), 120)
    out = []
    for col, mid, what in (("mu_HD", "adl_onset", "onset"), ("mu_DH", "adl_recovery", "recovery")):
        for age in FSX_AGES:
            for s, sex in enumerate(("M", "F")):
                row = rates[(rates["sex"] == sex) & (rates["age"] == age)]
                v = float(row.iloc[0][col])
                out.append(
                    Figure(
                        f"fsx.{what}.{sex}.{age}",
                        f"CLHLS 1998-2014 (Fu, Sherris & Xu): {what} of ADL disability, {sex}, age {age}",
                        mid,
                        "rate",
                        FSX_YEAR,
                        v,
                        RATE_REL_SE * v,
                        src,
                        "fit" if what == "onset" else "check",
                        sex=s,
                        age=age,
                        se_note=f"{100 * RATE_REL_SE:.0f}% relative (assumption)",
                        note=ONSET_NOTE if what == "onset" else RECOVERY_NOTE,
                    )
                )
    for age in FSX_AGES:
        for s, sex in enumerate(("M", "F")):
            row = rates[(rates["sex"] == sex) & (rates["age"] == age)].iloc[0]
            ratio = float(row["mu_DDead"]) / float(row["mu_HDead"])
            out.append(
                Figure(
                    f"fsx.deathratio.{sex}.{age}",
                    f"CLHLS 1998-2014 (Fu, Sherris & Xu): death rate disabled / healthy, {sex}, age {age}",
                    "adl_onset",
                    "death_ratio",
                    FSX_YEAR,
                    ratio,
                    DEATH_RATIO_LOG_SE,
                    src,
                    "fit",
                    sex=s,
                    age=age,
                    se_note=f"{DEATH_RATIO_LOG_SE:g} on the log scale (assumption)",
                    note="identifies the hazard ratios by level and their fall with age, which prevalence "
                    "alone cannot; CLHLS's ratio falls from about 4 at 70 to 2 at 90, the model's excess "
                    "ratio over intact falls log-linearly with age (mortality.hazard_ratio_age_slope, "
                    "fitted)",
                )
            )
    return out


def fit_only(figures: tuple[Figure, ...]) -> tuple[Figure, ...]:
    return tuple(f for f in figures if f.use == "fit")


def without_trend(figures: tuple[Figure, ...]) -> tuple[Figure, ...]:
    """The figures all at :data:`REF_YEAR` (for a fit without calendar trend)."""
    return tuple(replace(f, year=REF_YEAR) for f in figures)


def stated_trend(path: Path) -> tuple[float, float | None]:
    """The calendar trend in onset (per year) a fitted file states and its SE; (0, None) when it
    states none. Read from its ``[onset_trend]`` table (``per_year`` and its ``sd``), whether or not
    the simulation applies it: the report compares each wave with the rates of its own year."""
    from agingsim.scenario.files import read_toml

    table = read_toml(Path(path)).get("onset_trend")
    if not isinstance(table, dict) or "per_year" not in table:
        return 0.0, None
    figure = table["per_year"]
    if isinstance(figure, dict):
        sd = figure.get("sd")
        return float(figure["value"]), None if sd is None else float(sd)
    return float(figure), None
