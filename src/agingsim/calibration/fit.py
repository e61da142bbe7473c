"""Fit the ability model's assumed parameters to published prevalence and the life table.

Targets (all both sexes unless stated):

* GB/T 42195 level prevalence by age band: the scenario margins' ability rows (CLHLS 2018 ADL
  impairment by band mapped onto GB/T levels; 60-64 and the GB/T "mild" level are assumptions there);
* life expectancy at 60 by sex of the WPP life table, at the single-year rates the model uses (the
  abridged 5-year table's e60 differs by about 0.13 years; the report shows both);
* the female/male ratio of ADL impairment (GB/T moderate or worse) at 65+, CLHLS 2018.

The model's prevalence and e60 come from its stationary population (:mod:`.stationary`), so each
evaluation takes milliseconds and involves no random numbers. Parameters are estimated by penalised
non-linear least squares (``scipy.optimize.least_squares``, trust-region reflective, within bounds):

* each prevalence residual is (model − target) / its binomial standard error, with an effective
  sample size of 1,000 per band for published rows and 250 for rows that are assumptions;
* e60 residuals are in units of 0.25 year (e60 by sex cannot be matched exactly: see below);
* the sex ratio residual is its log difference in units of 0.05;
* a weak prior keeps each free parameter near its starting value (one prior SD: a factor e for a
  rate at 60, 0.03 for an age slope, a factor 1.22 for a female/male ratio, a factor 1.65 for each
  step of hazard ratio between adjacent levels). It makes weakly identified parameters stay where the
  starting file put them instead of drifting to a bound.

Free parameters are parameterised on scales where the bounds are boxes: log rate at 60, age slope,
log female/male ratio, and log ratio of each level's hazard ratio to the previous level's (≥ 0, so
death rates never fall as ability is lost).

What is fitted (:func:`calibrate`): stage 1 fits every figure the starting file labels as an
assumption and keeps every sourced (CLHLS) figure. If that misses the targets (:meth:`Quality.good_enough`),
stage 2 also frees :data:`STAGE2_FREE`. Hazard ratios by level are fitted only on request: prevalence
alone cannot tell longer survival with disability from faster onset, and when freed they fall to 1.

Why e60 by sex is not matched exactly: the model splits m(x) across levels with the margins'
prevalence, which has no sex split; where the model's own prevalence is above it (women), people die
faster than the life table, where below (men), slower. The e60 unit of 0.25 years lets the fit trade a
few tenths of a year for prevalence, well inside the ±0.5 years the issue asks for.

The fit is split by stage (this module re-exports each stage's names for the CLI and the tests):

* :mod:`.measures` — what each published disability measure counts in GB/T levels (a data table);
* :mod:`.parameters` — which figures are free, on which scale and within which bounds;
* :mod:`.targets` — the published figures aimed at, each with its standard error and source;
* :mod:`.estimate` — penalised least squares, its covariance and how good the fit is;
* :mod:`.fitted_file` — the fitted model written as a calibration/ability TOML file;
* :mod:`.census` — the mapping of GB/T levels onto the census self-care category.
"""

from __future__ import annotations

from agingsim.calibration.census import (
    CENSUS_FITTED_LEVEL,
    CENSUS_FIXED,
    CENSUS_MAPPING_PATH,
    CENSUS_TOLERANCE_PP,
    E60_TOLERANCE,
    CensusMapping,
    census_counts,
    census_mapping_toml,
    census_selfcare,
    fit_census_mapping,
    load_census_mapping,
)
from agingsim.calibration.estimate import (
    Calibration,
    FitResult,
    Quality,
    calibrate,
    fit,
    fixed_from_scenario,
    load_ability,
    quality,
    residuals,
    resolve_ability,
)
from agingsim.calibration.fitted_file import fitted_toml, write_atomically
from agingsim.calibration.parameters import (
    BOUNDS,
    PRIOR_SD,
    STAGE2_FREE,
    Free,
    Kind,
    ParameterSpace,
    free_by_provenance,
    transition_key,
)
from agingsim.calibration.targets import (
    ADL_LEVELS,
    DATA_DIR,
    E60_UNIT,
    N_ASSUMED,
    N_PUBLISHED,
    SEX_RATIO_UNIT,
    Targets,
    published,
    read_data,
    sex_ratio_of,
    short_source,
    targets_from_model,
    targets_from_scenario,
)

__all__ = [
    "ADL_LEVELS",
    "BOUNDS",
    "CENSUS_FITTED_LEVEL",
    "CENSUS_FIXED",
    "CENSUS_MAPPING_PATH",
    "CENSUS_TOLERANCE_PP",
    "DATA_DIR",
    "E60_TOLERANCE",
    "E60_UNIT",
    "N_ASSUMED",
    "N_PUBLISHED",
    "PRIOR_SD",
    "SEX_RATIO_UNIT",
    "STAGE2_FREE",
    "Calibration",
    "CensusMapping",
    "FitResult",
    "Free",
    "Kind",
    "ParameterSpace",
    "Quality",
    "Targets",
    "calibrate",
    "census_counts",
    "census_mapping_toml",
    "census_selfcare",
    "fit",
    "fit_census_mapping",
    "fitted_toml",
    "fixed_from_scenario",
    "free_by_provenance",
    "load_ability",
    "load_census_mapping",
    "published",
    "quality",
    "read_data",
    "residuals",
    "resolve_ability",
    "sex_ratio_of",
    "short_source",
    "targets_from_model",
    "targets_from_scenario",
    "transition_key",
    "write_atomically",
]
