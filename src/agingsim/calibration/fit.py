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
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from agingsim.calibration.stationary import FixedInputs, Implied, fixed_inputs, implied, life_table_e60
from agingsim.errors import AgingsimError
from agingsim.population.attributes import ABILITY_LEVELS, SEXES
from agingsim.scenario.loader import LifeTable, Scenario, load_labelled, load_life_table, project_root
from agingsim.scenario.provenance import Provenance
from agingsim.scenario.schema import AbilityModelFile

Kind = Literal["rate_60", "age_slope", "female_rr", "hazard_ratio"]

#: Box bounds on the natural scale (hazard ratio: per step between adjacent levels).
BOUNDS: dict[str, tuple[float, float]] = {
    "rate_60": (1e-4, 1.0),
    "age_slope": (-0.08, 0.15),
    "female_rr": (0.5, 2.0),
    "hazard_ratio": (1.0, 3.0),
}
#: Prior SD on the fitting scale (log for all but the age slope).
PRIOR_SD: dict[str, float] = {"rate_60": 1.0, "age_slope": 0.03, "female_rr": 0.2, "hazard_ratio": 0.5}
#: Effective sample size behind one band's prevalence: published rows, and rows that are assumptions.
N_PUBLISHED, N_ASSUMED = 1000, 250
#: Residual units of e60 (years) and of the log female/male ratio.
E60_UNIT, SEX_RATIO_UNIT = 0.25, 0.05
#: Levels counted as ADL impairment in CLHLS under the margins' mapping (ADL mild → GB/T moderate …).
ADL_LEVELS = ["moderate", "severe", "complete"]

DATA_DIR = Path("calibration") / "data"

#: "Good enough" for a fit (see :meth:`Quality.good_enough`).
MAX_PREVALENCE_ERROR, MAX_E60_ERROR, MAX_SEX_RATIO_ERROR = 0.02, 0.25, 0.10


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Free:
    """One free parameter: ``kind`` of transition ``key`` ("intact→mild") or hazard ratio of a level."""

    kind: Kind
    key: str

    @property
    def label(self) -> str:
        return f"hazard_ratio.{self.key}" if self.kind == "hazard_ratio" else f"{self.key} {self.kind}"


def transition_key(t: object) -> str:
    return f"{t.from_}→{t.to}"  # type: ignore[attr-defined]


#: Sourced figures that stage 2 of ``agingsim calibrate`` frees when stage 1 (sourced figures fixed)
#: misses the targets. CLHLS estimates one onset of ADL disability (slope 0.0601, women × 1.227) and
#: one recovery (slope −0.0250); the model spreads them over several GB/T transitions, and that
#: spreading, not the CLHLS figure, is the assumption. The CLHLS recovery itself (moderate→mild) stays.
STAGE2_FREE: tuple[Free, ...] = (
    Free("age_slope", "intact→mild"),
    Free("age_slope", "mild→moderate"),
    Free("age_slope", "intact→moderate"),
    Free("age_slope", "mild→intact"),
    Free("female_rr", "intact→mild"),
    Free("female_rr", "mild→moderate"),
    Free("female_rr", "intact→moderate"),
)


def free_by_provenance(params: AbilityModelFile, labels: dict[str, Provenance]) -> list[Free]:
    """The parameters whose figure is an ``assumption`` in the starting file; sourced ones stay fixed.

    The reference level's hazard ratio (intact = 1) is never free.
    """
    free = []
    for i, t in enumerate(params.transitions):
        for kind in ("rate_60", "age_slope", "female_rr"):
            label = labels.get(f"transitions[{i}].{kind}")
            if label is not None and label.kind == "assumption":
                free.append(Free(kind, transition_key(t)))  # type: ignore[arg-type]
    for level in ABILITY_LEVELS[1:]:
        label = labels.get(f"mortality.hazard_ratio.{level}")
        if label is not None and label.kind == "assumption":
            free.append(Free("hazard_ratio", level))
    return free


@dataclass(frozen=True)
class ParameterSpace:
    """Maps a vector of free parameters (on the fitting scale) to an ability-model file and back."""

    base: AbilityModelFile
    free: tuple[Free, ...]

    def __post_init__(self) -> None:
        keys = {transition_key(t) for t in self.base.transitions}
        for f in self.free:
            if f.kind != "hazard_ratio" and f.key not in keys:
                raise AgingsimError(f"no transition {f.key} in the ability model")
            if f.kind == "hazard_ratio" and f.key not in ABILITY_LEVELS[1:]:
                raise AgingsimError(f"hazard ratio of '{f.key}' cannot be fitted (intact is the reference)")

    def _transition(self, params: AbilityModelFile, key: str) -> object:
        return next(t for t in params.transitions if transition_key(t) == key)

    def to_vector(self, params: AbilityModelFile) -> np.ndarray:
        hr = params.mortality.hazard_ratio
        out = []
        for f in self.free:
            if f.kind == "hazard_ratio":
                prev = ABILITY_LEVELS[ABILITY_LEVELS.index(f.key) - 1]
                out.append(np.log(hr[f.key] / hr[prev]))
            elif f.kind == "age_slope":
                out.append(self._transition(params, f.key).age_slope)  # type: ignore[attr-defined]
            else:
                out.append(np.log(getattr(self._transition(params, f.key), f.kind)))
        return np.clip(np.array(out, dtype=float), *self.bounds())

    def apply(self, theta: np.ndarray) -> AbilityModelFile:
        updates: dict[str, dict[str, float]] = {}
        steps: dict[str, float] = {}
        for f, x in zip(self.free, theta, strict=True):
            if f.kind == "hazard_ratio":
                steps[f.key] = float(np.exp(x))
            else:
                updates.setdefault(f.key, {})[f.kind] = float(x if f.kind == "age_slope" else np.exp(x))
        transitions = [
            t.model_copy(update=updates[transition_key(t)]) if transition_key(t) in updates else t
            for t in self.base.transitions
        ]
        hr = dict(self.base.mortality.hazard_ratio)
        for prev, level in itertools.pairwise(ABILITY_LEVELS):
            if level in steps:
                hr[level] = hr[prev] * steps[level]
        mortality = self.base.mortality.model_copy(update={"hazard_ratio": hr})
        return self.base.model_copy(update={"transitions": transitions, "mortality": mortality})

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = [], []
        for f in self.free:
            a, b = BOUNDS[f.kind]
            lo.append(a if f.kind == "age_slope" else np.log(a))
            hi.append(b if f.kind == "age_slope" else np.log(b))
        return np.array(lo), np.array(hi)

    def prior_sd(self) -> np.ndarray:
        return np.array([PRIOR_SD[f.kind] for f in self.free])


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Targets:
    """What the fit aims at, with where each figure comes from."""

    edges: tuple[int, ...]
    band_labels: tuple[str, ...]
    #: (n_bands, 5) prevalence of each level by band, both sexes.
    prevalence: np.ndarray
    #: (n_bands,) effective sample size of each band's row.
    sample_size: np.ndarray
    prevalence_sources: tuple[str, ...]
    #: (2,) e60 (M, F) of the life table at the single-year rates the model uses.
    e60: np.ndarray
    e60_source: str
    #: (2,) e60 of the abridged life table (5-year groups), for the report.
    e60_abridged: np.ndarray
    #: F/M ratio of ADL impairment (GB/T moderate+) at 65+, or None to leave it out.
    sex_ratio: float | None = None
    sex_ratio_source: str = ""
    #: one line naming all targets and their sources (the provenance label of fitted figures).
    summary: str = ""
    #: a shorter naming of the targets for each fitted figure's provenance label.
    label: str = ""


def read_data(name: str) -> pd.DataFrame:
    path = project_root() / DATA_DIR / name
    if not path.is_file():
        raise AgingsimError(f"{path}: published-data file not found")
    return pd.read_csv(path)


def published(table: pd.DataFrame, **where: object) -> tuple[float, str]:
    """The one row of a calibration/data table matching ``where``: (value, source)."""
    rows = table
    for col, val in where.items():
        rows = rows[rows[col].astype(str) == str(val)]
    if len(rows) != 1:
        raise AgingsimError(f"expected one published figure for {where}, found {len(rows)}")
    return float(rows.iloc[0]["value"] if "value" in rows else rows.iloc[0]["share"]), str(
        rows.iloc[0]["source"]
    )


def short_source(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def targets_from_scenario(
    scenario: Scenario, life_table: LifeTable, age_max: int, use_sex_ratio: bool = True
) -> Targets:
    """The published targets: the scenario's ability margins, the life table and CLHLS's sex ratio."""
    margins = scenario.margins
    margin_rows = margins.attributes["ability"]
    if list(margin_rows.by) != ["age_band"]:
        raise AgingsimError("calibrate needs the ability margin by age band only (by = ['age_band'])")
    labels = margins.band_labels()
    stem = Path(scenario.file.population.margins).stem
    prevalence = np.zeros((len(labels), len(ABILITY_LEVELS)))
    n = np.zeros(len(labels))
    sources = []
    for i, row in enumerate(margin_rows.rows):
        b = labels.index(row["age_band"])
        p = np.asarray(row["p"], dtype=float)
        prevalence[b] = p / p.sum()
        label = scenario.provenance.get(f"{stem}:attributes.ability.rows[{i}].p")
        n[b] = N_PUBLISHED if label is not None and label.kind == "source" else N_ASSUMED
        sources.append(label.label() if label else "")
    lt = life_table
    e60 = life_table_e60(lt, age_max)
    lt_source = str(pd.read_csv(lt.path)["source"].iloc[0])
    e60_source = (
        f"e60 of the life table {lt.path.name}, period {lt.period}, at the single-year rates the model "
        f"uses: {short_source(lt_source)}"
    )
    ratio, ratio_source = None, ""
    if use_sex_ratio:
        data = read_data("disability_prevalence.csv")
        men, src = published(
            data, survey="CLHLS", year=2018, age_band="65+", sex="M", measure="adl_impairment_any_pct"
        )
        women, _ = published(
            data, survey="CLHLS", year=2018, age_band="65+", sex="F", measure="adl_impairment_any_pct"
        )
        ratio = women / men
        ratio_source = (
            f"CLHLS 2018 ADL impairment 65+, women {women}% / men {men}% ({short_source(src, 120)})"
        )
    margins_file = f"calibration/margins/{stem}.toml"
    summary = (
        f"GB/T level prevalence by age band {', '.join(labels)} ({margins_file}: CLHLS 2018 ADL impairment "
        "by band, China CDC Weekly 2023;5(27):593-598, mapped onto GB/T levels, the mapping, the mild level "
        f"and 60-64 being assumptions there); e60 by sex of the UN WPP 2024 life table for China "
        f"{lt.period} ({lt.path.name})"
        + (
            "; female/male ratio of ADL impairment 65+, CLHLS 2018 "
            "(calibration/data/disability_prevalence.csv)"
            if ratio is not None
            else ""
        )
    )
    label = (
        f"prevalence by age band in {margins_file} (CLHLS 2018, China CDC Weekly 2023;5(27):593-598, mapped "
        f"onto GB/T levels), e60 by sex of the WPP 2024 life table {lt.period} ({lt.path.name})"
        + (
            " and the CLHLS 2018 female/male ratio of ADL impairment 65+ "
            "(calibration/data/disability_prevalence.csv)"
            if ratio is not None
            else ""
        )
    )
    return Targets(
        edges=tuple(margins.age_bands),
        band_labels=labels,
        prevalence=prevalence,
        sample_size=n,
        prevalence_sources=tuple(sources),
        e60=e60,
        e60_source=e60_source,
        e60_abridged=life_table_e60(lt),
        sex_ratio=ratio,
        sex_ratio_source=ratio_source,
        summary=summary,
        label=label,
    )


def sex_ratio_of(imp: Implied) -> float:
    """F/M ratio of GB/T moderate+ prevalence at 65+ in the stationary population."""
    cols = [ABILITY_LEVELS.index(x) for x in ADL_LEVELS]
    prev = imp.prevalence(65, None)[:, cols].sum(axis=1)
    return float(prev[1] / prev[0])


def targets_from_model(
    params: AbilityModelFile, fixed: FixedInputs, like: Targets, with_sex_ratio: bool = True
) -> Targets:
    """Targets a model generates itself (for tests: a fit should recover ``params`` from them)."""
    imp = implied(params, fixed)
    _, both = imp.band_prevalence(like.edges)
    return Targets(
        edges=like.edges,
        band_labels=like.band_labels,
        prevalence=both,
        sample_size=like.sample_size,
        prevalence_sources=("generated by the model",) * len(like.edges),
        e60=imp.e60,
        e60_source="generated by the model",
        e60_abridged=imp.e60,
        sex_ratio=sex_ratio_of(imp) if with_sex_ratio else None,
        summary="targets generated by the model",
    )


# --------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class FitResult:
    params: AbilityModelFile
    start: AbilityModelFile
    free: tuple[Free, ...]
    theta: np.ndarray
    theta0: np.ndarray
    implied: Implied
    targets: Targets
    cost: float
    nfev: int
    success: bool
    message: str
    prior_weight: float
    at_bound: tuple[str, ...] = field(default_factory=tuple)
    #: covariance of ``theta`` (fitting scale): (JᵀJ)⁻¹ of the weighted residuals at the optimum, the
    #: prior included (Laplace approximation). Not inflated by the misfit: with the prior there are as
    #: many free parameters as data residuals, so no residual variance can be estimated
    covariance: np.ndarray | None = None

    def spreads(self) -> tuple[list[tuple[str, str, float]], np.ndarray]:
        """Each fitted figure's spread on its drawing scale and their correlation.

        Returns ``[(figure key in the file, "log_sd" | "sd", value)]`` and the correlation matrix. Rates
        and female/male ratios are fitted on the log scale (``log_sd``), age slopes on their own
        (``sd``); a fitted hazard ratio is the product of the fitted steps up to its level.
        """
        if self.covariance is None:
            return [], np.zeros((0, 0))
        index = {transition_key(t): i for i, t in enumerate(self.params.transitions)}
        rows, keys = [], []
        for j, f in enumerate(self.free):
            row = np.zeros(len(self.free))
            if f.kind == "hazard_ratio":
                level = ABILITY_LEVELS.index(f.key)
                for k, g in enumerate(self.free):
                    if g.kind == "hazard_ratio" and ABILITY_LEVELS.index(g.key) <= level:
                        row[k] = 1.0
                keys.append((f"mortality.hazard_ratio.{f.key}", "log_sd"))
            else:
                row[j] = 1.0
                spread = "sd" if f.kind == "age_slope" else "log_sd"
                keys.append((f"transitions[{index[f.key]}].{f.kind}", spread))
            rows.append(row)
        a = np.array(rows)
        cov = a @ self.covariance @ a.T
        sd = np.sqrt(np.clip(np.diag(cov), 1e-30, None))
        corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
        np.fill_diagonal(corr, 1.0)
        return [(k, kind, float(v)) for (k, kind), v in zip(keys, sd, strict=True)], corr


def residuals(
    theta: np.ndarray,
    space: ParameterSpace,
    targets: Targets,
    fixed: FixedInputs,
    theta0: np.ndarray,
    prior_weight: float,
) -> np.ndarray:
    imp = implied(space.apply(theta), fixed)
    _, both = imp.band_prevalence(targets.edges)
    t = np.clip(targets.prevalence, 0.002, 0.998)
    se = np.sqrt(t * (1.0 - t) / targets.sample_size[:, None])
    parts = [((both - targets.prevalence) / se).ravel(), (imp.e60 - targets.e60) / E60_UNIT]
    if targets.sex_ratio is not None:
        parts.append(np.array([np.log(sex_ratio_of(imp) / targets.sex_ratio) / SEX_RATIO_UNIT]))
    if prior_weight > 0:
        parts.append(np.sqrt(prior_weight) * (theta - theta0) / space.prior_sd())
    return np.concatenate(parts)


def fit(
    start: AbilityModelFile,
    free: list[Free],
    targets: Targets,
    fixed: FixedInputs,
    prior_weight: float = 1.0,
    prior: AbilityModelFile | None = None,
) -> FitResult:
    """Estimate the ``free`` parameters of ``start`` (the rest stay as they are).

    The prior is centred on ``prior`` (default: ``start``); ``prior_weight=0`` is plain least squares.
    """
    space = ParameterSpace(start, tuple(free))
    theta0 = space.to_vector(start)
    centre = space.to_vector(prior) if prior is not None else theta0
    lo, hi = space.bounds()
    result = least_squares(
        residuals,
        theta0,
        bounds=(lo, hi),
        args=(space, targets, fixed, centre, prior_weight),
        method="trf",
        x_scale=1.0,
        xtol=1e-10,
        ftol=1e-10,
        max_nfev=400,
    )
    params = space.apply(result.x)
    jac = np.asarray(result.jac)
    covariance = np.linalg.pinv(jac.T @ jac)
    at_bound = tuple(
        f.label
        for f, x, a, b in zip(free, result.x, lo, hi, strict=True)
        if min(x - a, b - x) < 1e-3 * (b - a)
    )
    return FitResult(
        params=params,
        start=start,
        free=tuple(free),
        theta=result.x,
        theta0=theta0,
        implied=implied(params, fixed),
        targets=targets,
        cost=float(result.cost),
        nfev=int(result.nfev),
        success=bool(result.success),
        message=str(result.message),
        prior_weight=prior_weight,
        at_bound=at_bound,
        covariance=covariance,
    )


@dataclass(frozen=True)
class Quality:
    """How close a model comes to the targets."""

    #: (n_bands, 5) model − target prevalence, both sexes.
    prevalence_error: np.ndarray
    #: (2,) model − target e60 (years), and against the abridged table.
    e60_error: np.ndarray
    e60_error_abridged: np.ndarray
    #: model / target − 1 of the F/M ratio (None if not a target).
    sex_ratio_error: float | None

    @property
    def max_prevalence_error(self) -> float:
        return float(np.max(np.abs(self.prevalence_error)))

    def good_enough(self) -> bool:
        """Every prevalence within 2 percentage points, e60 within 0.25 years, sex ratio within 10%."""
        return bool(
            self.max_prevalence_error <= MAX_PREVALENCE_ERROR
            and np.max(np.abs(self.e60_error)) <= MAX_E60_ERROR
            and (self.sex_ratio_error is None or abs(self.sex_ratio_error) <= MAX_SEX_RATIO_ERROR)
        )

    def describe(self) -> str:
        e60 = ", ".join(f"{s} {d:+.2f}" for s, d in zip(SEXES, self.e60_error, strict=True))
        text = f"largest prevalence error {100 * self.max_prevalence_error:.1f} pp; e60 {e60} years"
        if self.sex_ratio_error is not None:
            text += f"; F/M ratio of ADL impairment 65+ {100 * self.sex_ratio_error:+.0f}%"
        return text


def quality(imp: Implied, targets: Targets) -> Quality:
    _, both = imp.band_prevalence(targets.edges)
    return Quality(
        prevalence_error=both - targets.prevalence,
        e60_error=imp.e60 - targets.e60,
        e60_error_abridged=imp.e60 - targets.e60_abridged,
        sex_ratio_error=None if targets.sex_ratio is None else sex_ratio_of(imp) / targets.sex_ratio - 1.0,
    )


@dataclass(frozen=True)
class Calibration:
    """The two-stage fit of ``agingsim calibrate``: stage 2 runs only if stage 1 is not good enough."""

    stage1: FitResult
    stage2: FitResult | None

    @property
    def chosen(self) -> FitResult:
        return self.stage2 if self.stage2 is not None else self.stage1


def calibrate(
    scenario: Scenario, start_path: Path, fit_hazard_ratios: bool = False, prior_weight: float = 1.0
) -> tuple[Calibration, dict[str, Provenance]]:
    """Fit the model at ``start_path`` to the scenario's targets; return the fit and its labels.

    Stage 1 fits the figures the starting file labels as assumptions (hazard ratios only with
    ``fit_hazard_ratios``) and keeps every sourced figure. If that misses :meth:`Quality.good_enough`,
    stage 2 also frees :data:`STAGE2_FREE`, starting from stage 1's estimates with the same prior
    centre (the starting file).
    """
    start, labels, life_table = load_ability(start_path)
    fixed = fixed_from_scenario(scenario, start, life_table)
    targets = targets_from_scenario(scenario, life_table, start.age_max)
    free = [f for f in free_by_provenance(start, labels) if fit_hazard_ratios or f.kind != "hazard_ratio"]
    stage1 = fit(start, free, targets, fixed, prior_weight=prior_weight)
    if quality(stage1.implied, targets).good_enough():
        return Calibration(stage1, None), labels
    keys = {transition_key(t) for t in start.transitions}
    extra = [f for f in STAGE2_FREE if f not in free and f.key in keys]
    stage2 = fit(stage1.params, free + extra, targets, fixed, prior_weight=prior_weight, prior=start)
    return Calibration(stage1, stage2), labels


# --------------------------------------------------------------------------- loading and writing


def fixed_from_scenario(scenario: Scenario, params: AbilityModelFile, life_table: LifeTable) -> FixedInputs:
    """Fixed inputs for ``params`` with the scenario's margins and region (urban share)."""
    urban = sum(c.share_60plus * c.urban_share for c in scenario.region.counties)
    return fixed_inputs(scenario.margins, life_table, params.age_max, urban)


def resolve_ability(name: str) -> Path:
    """An ability model by name (``calibration/ability/<name>.toml``) or by path."""
    path = (
        Path(name) if name.endswith(".toml") else project_root() / "calibration" / "ability" / f"{name}.toml"
    )
    if not path.is_file():
        raise AgingsimError(f"ability model not found: {path}")
    return path.resolve()


def load_ability(path: Path) -> tuple[AbilityModelFile, dict[str, Provenance], LifeTable]:
    params, labels = load_labelled(path, AbilityModelFile)
    table = (path.parent / params.mortality.life_table).resolve()
    return params, labels, load_life_table(table, params.mortality.period, "mortality.life_table", path)


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _num(x: float) -> str:
    if x == 0:
        return "0"
    return f"{x:.6g}" if abs(x) >= 1e-4 else f"{x:.4e}"


Spread = tuple[str, float]  # ("sd" | "log_sd", value): a figure's stated distribution


def _figure(value: float, label: Provenance | None, spread: Spread | None = None) -> str:
    """A figure as TOML: bare, or wrapped with its own label and/or spread."""
    parts = [f"value = {_num(value)}"]
    if spread is not None:
        parts.append(f"{spread[0]} = {_num(spread[1])}")
    if label is not None:
        parts.append(f"{label.kind} = {_toml_str(label.text)}")
    return _num(value) if len(parts) == 1 else "{ " + ", ".join(parts) + " }"


def _labelled_table(
    figures: dict[str, tuple[float, Provenance]], spreads: dict[str, Spread] | None = None
) -> list[str]:
    """Figures of one table; one shared label goes on the table, different labels on each figure."""
    spreads = spreads or {}
    labels = {label for _, label in figures.values()}
    if len(labels) == 1:
        (label,) = labels
        return [f"{label.kind} = {_toml_str(label.text)}"] + [
            f"{k} = {_figure(v, None, spreads.get(k))}" for k, (v, _) in figures.items()
        ]
    return [f"{k} = {_figure(v, label, spreads.get(k))}" for k, (v, label) in figures.items()]


def _start_uncertainty(start_raw: dict[str, object]) -> tuple[dict[str, Spread], list[tuple[str, dict]]]:
    """Spreads and correlation groups stated in the starting file (kept for figures not fitted)."""
    from agingsim.uncertainty.draws import _stated

    found, _ = _stated("ability", "start", start_raw)
    spreads = {s.key: ("log_sd" if s.distribution == "lognormal" else "sd", s.scale) for s in found}
    table = start_raw.get("uncertainty", {})
    groups = table.get("groups", {}) if isinstance(table, dict) else {}
    return spreads, list(groups.items()) if isinstance(groups, dict) else []


def _group_toml(name: str, label: Provenance, keys: list[str], corr: np.ndarray) -> list[str]:
    rows = ",\n".join("  [" + ", ".join(f"{x:.4f}" for x in row) + "]" for row in corr)
    return [
        "",
        f"[uncertainty.groups.{name}]",
        f"{label.kind} = {_toml_str(label.text)}",
        "keys = [" + ", ".join(_toml_str(k) for k in keys) + "]",
        "correlation = [\n" + rows + ",\n]",
    ]


def _comment(text: str) -> list[str]:
    return [f"# {line}" if line else "#" for line in textwrap.wrap(text, 100)] or ["#"]


def fitted_toml(
    calibration: Calibration,
    start_labels: dict[str, Provenance],
    start_path: str,
    command: str,
    date: dt.date | None = None,
    life_table: str | None = None,
    start_raw: dict[str, object] | None = None,
) -> str:
    """The fitted model as TOML in the schema of ``calibration/ability/default.toml``.

    ``life_table`` is the life table's path relative to where the file will be written (default: as
    in the starting file, for a fitted file in the same folder).
    """
    result = calibration.chosen
    date = date or dt.date.today()
    fitted_label = Provenance(
        "source", f"fitted by agingsim calibrate ({date.isoformat()}) to {result.targets.label}"
    )
    free = {(f.kind, f.key) for f in result.free}
    fitted_spreads, corr = result.spreads()
    start_spreads, start_groups = _start_uncertainty(start_raw or {})
    fitted_keys = {k for k, _, _ in fitted_spreads}
    spreads = {k: v for k, v in start_spreads.items() if k not in fitted_keys}
    spreads |= {k: (kind, v) for k, kind, v in fitted_spreads}
    p = result.params
    tg = result.targets
    q1 = quality(calibration.stage1.implied, tg)
    q = quality(result.implied, tg)
    stage_text = f"Stage 1 (sourced figures fixed, assumptions fitted): {q1.describe()}. " + (
        "Good enough, so no sourced figure was refitted."
        if calibration.stage2 is None
        else "Not good enough (criteria: every prevalence within 2 pp, e60 within 0.25 years, sex ratio "
        "within 10%), so stage 2 also fitted the CLHLS-sourced "
        + ", ".join(f.label for f in calibration.stage2.free if f in STAGE2_FREE)
        + f", whose spreading over GB/T transitions is the assumption: {q.describe()}."
    )
    hr_text = (
        "Hazard ratios by level were fitted."
        if any(f.kind == "hazard_ratio" for f in result.free)
        else "Hazard ratios by level are NOT fitted (kept as in the starting file): prevalence alone cannot "
        "tell longer survival with disability from faster onset, and freed they fall to 1, below CLHLS's "
        "disabled/healthy death ratios of about 2-5 (use --fit-hazard-ratios to free them)."
    )
    lines = [
        "# Ability model FITTED to published Chinese data. Do not edit by hand: regenerate with",
        "#",
        f"#   {command}",
        "#",
        *_comment(
            f"Fitted {date.isoformat()} from {start_path} (its values are the starting point and the centre "
            "of a weak prior) by penalised least squares on the model's stationary population "
            "(agingsim.calibration.fit; report: calibration/fit/report.md from `agingsim validate-model`). "
            f"Targets: {tg.summary}."
        ),
        "#",
        *_comment(stage_text),
        "#",
        *_comment(hr_text),
        "#",
        *_comment(
            'Fitted figures carry source = "fitted by agingsim calibrate ..."; every other figure keeps its '
            "label from the starting file. Fitted to " + ", ".join(f.label for f in result.free) + "."
        ),
        "#",
        "#   rate(age, sex) = rate_60 × exp(age_slope × (age − 60)) × (female_rr if female)",
        "",
        f"levels = {json.dumps(list(p.levels))}",
        f"age_max = {p.age_max}",
    ]
    for i, t in enumerate(p.transitions):
        key = transition_key(t)
        lines += ["", "[[transitions]]", f"from = {_toml_str(t.from_)}", f"to = {_toml_str(t.to)}"]
        figures = {
            kind: (
                getattr(t, kind),
                fitted_label if (kind, key) in free else start_labels[f"transitions[{i}].{kind}"],
            )
            for kind in ("rate_60", "age_slope", "female_rr")
        }
        lines += _labelled_table(
            figures,
            {k: spreads[f"transitions[{i}].{k}"] for k in figures if f"transitions[{i}].{k}" in spreads},
        )
    hr = {
        level: (
            p.mortality.hazard_ratio[level],
            fitted_label
            if ("hazard_ratio", level) in free
            else start_labels[f"mortality.hazard_ratio.{level}"],
        )
        for level in ABILITY_LEVELS
    }
    lines += [
        "",
        "[mortality]",
        f"life_table = {_toml_str(life_table or p.mortality.life_table)}",
        f"period = {_toml_str(p.mortality.period)}",
        "",
        "[mortality.hazard_ratio]",
        "# death rate relative to an intact person of the same age and sex; rates are rescaled so that",
        "# the margins' prevalence dies at exactly the WPP life-table rate",
        *_labelled_table(
            hr,
            {
                lv: spreads[f"mortality.hazard_ratio.{lv}"]
                for lv in hr
                if f"mortality.hazard_ratio.{lv}" in spreads
            },
        ),
    ]
    if fitted_spreads:
        spread_label = Provenance(
            "source",
            f"agingsim calibrate ({date.isoformat()}): the fitted figures' spreads (sd, log_sd) and this "
            "correlation are the covariance of the estimates, (JᵀJ)⁻¹ with J the Jacobian of the "
            "weighted residuals at the optimum with the prior included (Laplace approximation); the "
            "residual weights (effective "
            "sample sizes of the targets, prior SDs) are stated in "
            "agingsim.calibration.fit",
        )
        lines += _group_toml("fit", spread_label, [k for k, _, _ in fitted_spreads], corr)
    for name, group in start_groups:
        keys = list(group.get("keys", [])) if isinstance(group, dict) else []
        if keys and not set(keys) & fitted_keys:
            kind = "source" if "source" in group else "assumption"
            label = Provenance(kind, str(group.get(kind, "")))  # type: ignore[arg-type]
            lines += _group_toml(str(name), label, keys, np.array(group["correlation"], dtype=float))
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> Path:
    """Write a file so that it is either entirely the new text or untouched (rename into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- census self-care mapping

#: Where ``agingsim calibrate`` writes the mapping of GB/T levels onto the census self-care category.
CENSUS_MAPPING_PATH = Path("calibration") / "mappings" / "census2020_selfcare.toml"
#: The level whose reporting share is estimated; the others are fixed by the assumptions below.
CENSUS_FITTED_LEVEL = "severe"
#: Share of each GB/T level reporting "cannot care for self" (生活不能自理) that is fixed a priori.
CENSUS_FIXED: dict[str, tuple[float, str]] = {
    "intact": (
        0.0,
        "能力完好: no limitation in daily activities, so no report of being unable to care for oneself",
    ),
    "mild": (
        0.0,
        "轻度失能: in the margins' mapping an IADL-level limitation with no ADL impairment; such people "
        "care for themselves (census 'unhealthy but able to care for self' at most)",
    ),
    "moderate": (
        0.0,
        "中度失能: in the margins' mapping the lightest CLHLS ADL grade; difficulty with some basic "
        "activities but not dependence, so counted as able to care for self",
    ),
    "complete": (
        1.0,
        "完全失能: in the margins' mapping the most severe CLHLS ADL grade, dependent in basic activities "
        "of daily living, so unable to care for oneself by definition",
    ),
}
#: Tolerance of the census condition: the model's 60+ share within this many percentage points.
CENSUS_TOLERANCE_PP = 0.25
#: Tolerance of the life-table condition (issue 9): e60 by sex within this many years.
E60_TOLERANCE = 0.5


@dataclass(frozen=True)
class CensusMapping:
    """P(reports "cannot care for self" in the 2020 census | GB/T level), with each share's label."""

    share: dict[str, float]
    labels: dict[str, Provenance]
    path: Path | None = None

    def vector(self) -> np.ndarray:
        return np.array([self.share[level] for level in ABILITY_LEVELS])

    def of(self, prevalence: np.ndarray) -> np.ndarray:
        """Census-category prevalence from GB/T level prevalence (last axis = levels)."""
        return np.asarray(prevalence) @ self.vector()


def census_counts(scenario: Scenario) -> dict[tuple[int, int | None], tuple[float, float]]:
    """The margins' population by age band and sex (census 2020 in the bundled margins)."""
    out: dict[tuple[int, int | None], tuple[float, float]] = {}
    for row in scenario.margins.age_sex:
        if row.age.endswith("+"):
            lo, hi = int(row.age[:-1]), None
        elif "-" in row.age:
            a, b = row.age.split("-")
            lo, hi = int(a), int(b) + 1
        else:
            lo, hi = int(row.age), int(row.age) + 1
        out[(lo, hi)] = (float(row.M), float(row.F))
    return out


def census_selfcare() -> tuple[float, str]:
    """The census 2020 share of people 60+ who cannot care for themselves (0-1), and its source."""
    census = read_data("census2020_health_status_60plus.csv")
    return published(census, age_band="60+", sex="all", residence="all", status="cannot_selfcare")


def fit_census_mapping(imp: Implied, scenario: Scenario, date: dt.date | None = None) -> CensusMapping:
    """The reporting share of :data:`CENSUS_FITTED_LEVEL` that makes the model's 60+ (stationary
    population, census-weighted bands) match the census share; the other levels' shares are fixed.

    One figure sets one share, so this is a fit, not a validation; what it buys is an explicit,
    checkable link between GB/T levels and the census category (clipped to [0, 1] if it cannot match).
    """
    from agingsim.calibration.stationary import census_weighted_share

    date = date or dt.date.today()
    counts = census_counts(scenario)
    target, src = census_selfcare()
    fixed = sum(v * census_weighted_share(imp, [lv], counts) for lv, (v, _) in CENSUS_FIXED.items())
    level_share = census_weighted_share(imp, [CENSUS_FITTED_LEVEL], counts)
    s = float(np.clip((target - fixed) / level_share, 0.0, 1.0))
    share = {lv: v for lv, (v, _) in CENSUS_FIXED.items()} | {CENSUS_FITTED_LEVEL: s}
    labels = {lv: Provenance("assumption", text) for lv, (_, text) in CENSUS_FIXED.items()}
    labels[CENSUS_FITTED_LEVEL] = Provenance(
        "source",
        f"fitted by agingsim calibrate ({date.isoformat()}): the share of GB/T {CENSUS_FITTED_LEVEL} "
        "that makes the fitted model's people 60+ (stationary population, bands weighted by the "
        f"margins' census 2020 counts) report 'cannot care for self' at the census's {100 * target:.2f}% "
        f"({short_source(src, 140)}; calibration/data/census2020_health_status_60plus.csv)",
    )
    return CensusMapping({lv: share[lv] for lv in ABILITY_LEVELS}, labels)


def census_mapping_toml(mapping: CensusMapping, command: str, model: str) -> str:
    lines = [
        "# Mapping of GB/T 42195 ability levels onto the 2020 census self-care category 生活不能自理",
        "# ('cannot care for self'). Do not edit by hand: regenerate with",
        "#",
        f"#   {command}",
        "#",
        *_comment(
            f"Written with {model}. Each share is P(a person at that level reports 'cannot care for self' "
            "in the census long form). The census asks people to rate themselves; GB/T levels come from an "
            "assessment (here: CLHLS ADL grades mapped in the margins), so the two do not coincide: the "
            f"shares of the other levels are assumptions, and the {CENSUS_FITTED_LEVEL} share is set from "
            "the one published census figure (60+; the table by age band was not found, "
            "calibration/data/README.md). Used by `agingsim validate-model` for the census condition."
        ),
        "",
        "[cannot_care_for_self]",
    ]
    lines += [f"{lv} = {_figure(mapping.share[lv], mapping.labels[lv])}" for lv in ABILITY_LEVELS]
    return "\n".join(lines) + "\n"


def load_census_mapping(path: Path) -> CensusMapping:
    """Read a mapping written by :func:`census_mapping_toml`; AgingsimError naming what is wrong."""
    from agingsim.scenario.loader import read_toml
    from agingsim.scenario.provenance import strip_provenance

    if not path.is_file():
        raise AgingsimError(f"{path}: census mapping not found; regenerate it with `agingsim calibrate`")
    plain, labels, missing = strip_provenance(read_toml(path))
    table = plain.get("cannot_care_for_self") if isinstance(plain, dict) else None
    if missing or not isinstance(table, dict) or set(table) != set(ABILITY_LEVELS):
        raise AgingsimError(
            f"{path}: cannot_care_for_self: needs a labelled share for each of {', '.join(ABILITY_LEVELS)}"
        )
    bad = [lv for lv, v in table.items() if not (isinstance(v, int | float) and 0 <= v <= 1)]
    if bad:
        raise AgingsimError(f"{path}: cannot_care_for_self.{bad[0]}: must be a share between 0 and 1")
    return CensusMapping(
        {lv: float(table[lv]) for lv in ABILITY_LEVELS},
        {lv: labels[f"cannot_care_for_self.{lv}"] for lv in ABILITY_LEVELS},
        path,
    )
