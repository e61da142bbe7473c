"""Stage 3 of the fit: penalised least squares (``scipy.optimize.least_squares``) and its quality.

The weights and the prior are described in :mod:`agingsim.calibration.fit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

from agingsim.calibration.figures import TREND_BOUNDS, TREND_PRIOR_SD
from agingsim.calibration.figures import residual as figure_residual
from agingsim.calibration.figures import values as figure_values
from agingsim.calibration.parameters import (
    HR_SLOPE_KEY,
    STAGE2_FREE,
    Free,
    ParameterSpace,
    free_by_provenance,
    transition_key,
)
from agingsim.calibration.stationary import FixedInputs, Implied, fixed_inputs, implied
from agingsim.calibration.targets import (
    E60_UNIT,
    MAX_E60_ERROR,
    MAX_PREVALENCE_ERROR,
    MAX_SEX_RATIO_ERROR,
    SEX_RATIO_UNIT,
    Targets,
    joint_targets,
    sex_ratio_of,
)
from agingsim.errors import AgingsimError
from agingsim.population.attributes import ABILITY_LEVELS, SEXES
from agingsim.scenario.files import load_labelled, project_root
from agingsim.scenario.loader import LifeTable, Scenario, load_life_table
from agingsim.scenario.provenance import Provenance
from agingsim.scenario.schema import AbilityModelFile

#: A fit is good enough when every fitted published figure is within this many standard errors.
MAX_FIGURE_Z = 2.0


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
    #: fitted calendar trend τ of onset per year (0 when not fitted) and its standard error
    trend: float = 0.0
    trend_sd: float | None = None
    fixed: FixedInputs | None = None

    def spreads(self) -> tuple[list[tuple[str, str, float]], np.ndarray]:
        """Each fitted figure's spread on its drawing scale and their correlation.

        Returns ``[(figure key in the file, "log_sd" | "sd", value)]`` and the correlation matrix. Rates
        and female/male ratios are fitted on the log scale (``log_sd``), age slopes on their own
        (``sd``); a fitted hazard ratio is the product of the fitted steps up to its level; the calendar
        trend in onset, when fitted, comes last (``onset_trend.per_year``, ``sd``).
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
            elif f.kind == "hazard_ratio_age_slope":
                row[j] = 1.0
                keys.append((HR_SLOPE_KEY, "sd"))
            else:
                row[j] = 1.0
                spread = "sd" if f.kind == "age_slope" else "log_sd"
                keys.append((f"transitions[{index[f.key]}].{f.kind}", spread))
            rows.append(row)
        n = len(self.free)
        if self.trend_sd is not None:
            # the calendar trend in onset, fitted jointly (last row of the covariance)
            rows = [np.append(r, 0.0) for r in rows] + [np.append(np.zeros(n), 1.0)]
            keys.append(("onset_trend.per_year", "sd"))
            n += 1
        a = np.array(rows)
        cov = a @ self.covariance[:n, :n] @ a.T
        sd = np.sqrt(np.clip(np.diag(cov), 1e-30, None))
        corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
        np.fill_diagonal(corr, 1.0)
        return [(k, kind, float(v)) for (k, kind), v in zip(keys, sd, strict=True)], corr


def _split(theta: np.ndarray, space: ParameterSpace, targets: Targets) -> tuple[np.ndarray, float]:
    n = len(space.free)
    return theta[:n], float(theta[n]) if targets.trend else 0.0


def residuals(
    theta: np.ndarray,
    space: ParameterSpace,
    targets: Targets,
    fixed: FixedInputs,
    theta0: np.ndarray,
    prior_weight: float,
) -> np.ndarray:
    """Weighted residuals: margins cells (binomial SE), e60, sex ratio, published figures, prior."""
    x, trend = _split(theta, space, targets)
    params = space.apply(x)
    imp = implied(params, fixed)
    _, both = imp.band_prevalence(targets.edges)
    t = np.clip(targets.prevalence, 0.002, 0.998)
    se = np.sqrt(t * (1.0 - t) / targets.sample_size[:, None])
    mask = targets.mask()
    parts = [((both - targets.prevalence) / se)[mask], (imp.e60 - targets.e60) / E60_UNIT]
    if targets.sex_ratio is not None:
        parts.append(np.array([np.log(sex_ratio_of(imp) / targets.sex_ratio) / SEX_RATIO_UNIT]))
    figs = targets.fit_figures()
    if figs:
        vals = figure_values(figs, params, trend, fixed, targets.counts)
        parts.append(np.array([figure_residual(f, v) for f, v in zip(figs, vals, strict=True)]))
    if prior_weight > 0:
        prior_sd = space.prior_sd()
        if targets.trend:
            prior_sd = np.append(prior_sd, TREND_PRIOR_SD)
        parts.append(np.sqrt(prior_weight) * (theta - theta0) / prior_sd)
    return np.concatenate(parts)


def fit(
    start: AbilityModelFile,
    free: list[Free],
    targets: Targets,
    fixed: FixedInputs,
    prior_weight: float = 1.0,
    prior: AbilityModelFile | None = None,
    trend0: float = 0.0,
) -> FitResult:
    """Estimate the ``free`` parameters of ``start`` (the rest stay as they are), and the calendar
    trend in onset when ``targets.trend`` (starting at ``trend0``, prior centred on 0).

    The prior is centred on ``prior`` (default: ``start``); ``prior_weight=0`` is plain least squares.
    """
    space = ParameterSpace(start, tuple(free))
    theta0 = space.to_vector(start)
    centre = space.to_vector(prior) if prior is not None else theta0
    lo, hi = space.bounds()
    if targets.trend:
        theta0 = np.append(theta0, trend0)
        centre = np.append(centre, 0.0)
        lo, hi = np.append(lo, TREND_BOUNDS[0]), np.append(hi, TREND_BOUNDS[1])
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
    x, trend = _split(result.x, space, targets)
    params = space.apply(x)
    jac = np.asarray(result.jac)
    covariance = np.linalg.pinv(jac.T @ jac)
    labels = [f.label for f in free] + (["onset trend"] if targets.trend else [])
    at_bound = tuple(
        name
        for name, v, a, b in zip(labels, result.x, lo, hi, strict=True)
        if min(v - a, b - v) < 1e-3 * (b - a)
    )
    return FitResult(
        params=params,
        start=start,
        free=tuple(free),
        theta=x,
        theta0=theta0[: len(free)],
        implied=implied(params, fixed),
        targets=targets,
        cost=float(result.cost),
        nfev=int(result.nfev),
        success=bool(result.success),
        message=str(result.message),
        prior_weight=prior_weight,
        at_bound=at_bound,
        covariance=covariance,
        trend=trend,
        trend_sd=float(np.sqrt(covariance[-1, -1])) if targets.trend else None,
        fixed=fixed,
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
    #: (n_bands, 5) which prevalence cells were targets
    mask: np.ndarray | None = None
    #: standardised errors (model − published) / SE of the fitted published figures
    figure_z: np.ndarray | None = None

    @property
    def max_prevalence_error(self) -> float:
        err = self.prevalence_error if self.mask is None else self.prevalence_error[self.mask]
        return float(np.max(np.abs(err)))

    @property
    def max_figure_z(self) -> float:
        return (
            0.0 if self.figure_z is None or not len(self.figure_z) else float(np.max(np.abs(self.figure_z)))
        )

    def good_enough(self) -> bool:
        """Every prevalence within 2 percentage points, e60 within 0.25 years, sex ratio within 10%,
        every fitted published figure within :data:`MAX_FIGURE_Z` standard errors."""
        return bool(
            self.max_figure_z <= MAX_FIGURE_Z
            and self.max_prevalence_error <= MAX_PREVALENCE_ERROR
            and np.max(np.abs(self.e60_error)) <= MAX_E60_ERROR
            and (self.sex_ratio_error is None or abs(self.sex_ratio_error) <= MAX_SEX_RATIO_ERROR)
        )

    def describe(self) -> str:
        e60 = ", ".join(f"{s} {d:+.2f}" for s, d in zip(SEXES, self.e60_error, strict=True))
        text = f"largest prevalence error {100 * self.max_prevalence_error:.1f} pp; e60 {e60} years"
        if self.sex_ratio_error is not None:
            text += f"; F/M ratio of ADL impairment 65+ {100 * self.sex_ratio_error:+.0f}%"
        if self.figure_z is not None and len(self.figure_z):
            within = int(np.sum(np.abs(self.figure_z) <= 2))
            text += (
                f"; {within} of {len(self.figure_z)} published figures within 2 SE "
                f"(largest {self.max_figure_z:.1f} SE)"
            )
        return text


def quality(imp: Implied, targets: Targets, result: FitResult | None = None) -> Quality:
    """How close ``imp`` comes to ``targets``; with the fit ``result``, its published figures too."""
    _, both = imp.band_prevalence(targets.edges)
    z = None
    figs = targets.fit_figures()
    if figs and result is not None:
        vals = figure_values(figs, result.params, result.trend, result.fixed, targets.counts)
        z = np.array([figure_residual(f, v) for f, v in zip(figs, vals, strict=True)])
    return Quality(
        prevalence_error=both - targets.prevalence,
        e60_error=imp.e60 - targets.e60,
        e60_error_abridged=imp.e60 - targets.e60_abridged,
        sex_ratio_error=None if targets.sex_ratio is None else sex_ratio_of(imp) / targets.sex_ratio - 1.0,
        mask=targets.prevalence_mask,
        figure_z=z,
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
    scenario: Scenario,
    start_path: Path,
    fit_hazard_ratios: bool = True,
    prior_weight: float = 1.0,
    trend: bool = True,
) -> tuple[Calibration, dict[str, Provenance]]:
    """Fit the model at ``start_path`` to the scenario's targets; return the fit and its labels.

    Stage 1 fits the figures the starting file labels as assumptions (hazard ratios only with
    ``fit_hazard_ratios``) and keeps every sourced figure. If that misses :meth:`Quality.good_enough`,
    stage 2 also frees :data:`STAGE2_FREE`, starting from stage 1's estimates with the same prior
    centre (the starting file). Targets: :func:`~agingsim.calibration.targets.joint_targets` (several
    sources and waves, CLHLS 2014 held out), with a calendar trend in onset unless ``trend=False``.
    """
    start, labels, life_table = load_ability(start_path)
    fixed = fixed_from_scenario(scenario, start, life_table)
    targets = joint_targets(scenario, life_table, start.age_max, trend=trend)
    free = [
        f
        for f in free_by_provenance(start, labels)
        if fit_hazard_ratios or f.kind not in ("hazard_ratio", "hazard_ratio_age_slope")
    ]
    stage1 = fit(start, free, targets, fixed, prior_weight=prior_weight)
    if quality(stage1.implied, targets, stage1).good_enough():
        return Calibration(stage1, None), labels
    keys = {transition_key(t) for t in start.transitions}
    extra = [f for f in STAGE2_FREE if f not in free and f.key in keys]
    stage2 = fit(
        stage1.params,
        free + extra,
        targets,
        fixed,
        prior_weight=prior_weight,
        prior=start,
        trend0=stage1.trend,
    )
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
