"""Stage 1 of the fit: which figures are free, on which scale, within which bounds.

Free parameters are parameterised on scales where the bounds are boxes: log rate at 60, age slope,
log female/male ratio, and log ratio of each level's hazard ratio to the previous level's (≥ 0, so
death rates never fall as ability is lost).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np

from agingsim.errors import AgingsimError
from agingsim.population.attributes import ABILITY_LEVELS
from agingsim.scenario.provenance import Provenance
from agingsim.scenario.schema import AbilityModelFile

Kind = Literal["rate_60", "age_slope", "female_rr", "hazard_ratio", "hazard_ratio_age_slope"]

#: The key of the one age slope of the death-rate ratios (all levels share it).
HR_SLOPE_KEY = "mortality.hazard_ratio_age_slope"

#: Box bounds on the natural scale (hazard ratio: per step between adjacent levels).
BOUNDS: dict[str, tuple[float, float]] = {
    "rate_60": (1e-4, 1.0),
    "age_slope": (-0.08, 0.15),
    "female_rr": (0.5, 2.0),
    "hazard_ratio": (1.0, 6.0),
    "hazard_ratio_age_slope": (-0.15, 0.05),
}
#: Prior SD on the fitting scale (log for all but the age slope).
PRIOR_SD: dict[str, float] = {
    "rate_60": 1.0,
    "age_slope": 0.03,
    "female_rr": 0.2,
    "hazard_ratio": 0.5,
    "hazard_ratio_age_slope": 0.05,
}
#: Kinds fitted on their own scale (the rest on the log scale).
LINEAR_KINDS = ("age_slope", "hazard_ratio_age_slope")


@dataclass(frozen=True)
class Free:
    """One free parameter: ``kind`` of transition ``key`` ("intact→mild") or hazard ratio of a level."""

    kind: Kind
    key: str

    @property
    def label(self) -> str:
        if self.kind == "hazard_ratio_age_slope":
            return "hazard_ratio_age_slope"
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
    label = labels.get(HR_SLOPE_KEY)
    if label is not None and label.kind == "assumption":
        free.append(Free("hazard_ratio_age_slope", "all"))
    return free


@dataclass(frozen=True)
class ParameterSpace:
    """Maps a vector of free parameters (on the fitting scale) to an ability-model file and back."""

    base: AbilityModelFile
    free: tuple[Free, ...]

    def __post_init__(self) -> None:
        keys = {transition_key(t) for t in self.base.transitions}
        for f in self.free:
            if f.kind == "hazard_ratio_age_slope":
                continue
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
            elif f.kind == "hazard_ratio_age_slope":
                out.append(params.mortality.hazard_ratio_age_slope)
            elif f.kind == "age_slope":
                out.append(self._transition(params, f.key).age_slope)  # type: ignore[attr-defined]
            else:
                out.append(np.log(getattr(self._transition(params, f.key), f.kind)))
        return np.clip(np.array(out, dtype=float), *self.bounds())

    def apply(self, theta: np.ndarray) -> AbilityModelFile:
        updates: dict[str, dict[str, float]] = {}
        steps: dict[str, float] = {}
        slope = self.base.mortality.hazard_ratio_age_slope
        for f, x in zip(self.free, theta, strict=True):
            if f.kind == "hazard_ratio_age_slope":
                slope = float(x)
            elif f.kind == "hazard_ratio":
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
        mortality = self.base.mortality.model_copy(
            update={"hazard_ratio": hr, "hazard_ratio_age_slope": slope}
        )
        return self.base.model_copy(update={"transitions": transitions, "mortality": mortality})

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = [], []
        for f in self.free:
            a, b = BOUNDS[f.kind]
            lo.append(a if f.kind in LINEAR_KINDS else np.log(a))
            hi.append(b if f.kind in LINEAR_KINDS else np.log(b))
        return np.array(lo), np.array(hi)

    def prior_sd(self) -> np.ndarray:
        return np.array([PRIOR_SD[f.kind] for f in self.free])
