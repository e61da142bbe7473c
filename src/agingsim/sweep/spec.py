"""The sweep file: a base scenario, fixed settings, axes and a design; and the design's points.

Everything here is checked before a single run starts, with errors in the project's
``FILE: KEY: PROBLEM`` form, because a sweep of a thousand runs that fails on run 600 for a typo is
the expensive way to find it.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.scenario.files import confine, read_toml, validate_file
from agingsim.sweep.overrides import KeyPath, parse_key

Design = Literal["grid", "list", "lhs", "sobol", "morris", "saltelli"]
#: Designs whose points are drawn in a box of ``range`` bounds.
SAMPLED = ("lhs", "sobol", "morris", "saltelli")
#: Designs from which SALib computes sensitivity indices.
SENSITIVITY = ("morris", "saltelli")

#: Columns every store row has; an axis may not take one of these names.
RESERVED = {
    "sweep",
    "scenario",
    "run_key",
    "point",
    "replication",
    "seed",
    "version",
    "year",
    "people_60plus",
    "needing_care",
    "entrants",
    "deaths",
    "cost_province_wan",
    "cost_city_wan",
    "cost_county_wan",
    "cost_total_wan",
    "run_time_s",
}

#: Most runs one sweep may plan: a sweep's plan and its store index stay in memory.
MAX_RUNS = 100_000

Scalar = StrictInt | StrictFloat | StrictBool | StrictStr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SweepMeta(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", description="folder name in the store")
    scenario: str = Field(min_length=1, description="base scenario, relative to the sweep file")
    description: str = ""
    design: Design = "grid"
    replications: int = Field(default=1, ge=1, le=100_000)
    samples: int | None = Field(default=None, ge=1, le=1_000_000)
    seed: int = Field(default=0, ge=0, lt=2**63, description="seed of the sampler, not of the runs")
    morris_levels: int = Field(default=4, ge=2, le=100)


class Axis(_Strict):
    key: str = Field(min_length=1)
    name: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    values: list[Scalar] | None = None
    range: tuple[float, float] | None = None
    steps: int | None = Field(default=None, ge=2, le=10_000)
    integer: bool = False


class SweepFile(_Strict):
    sweep: SweepMeta
    fixed: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict, alias="set")
    axes: list[Axis] = Field(default_factory=list)


@dataclass(frozen=True)
class AxisSpec:
    """One validated axis: its column name, parsed key and the values or bounds it takes."""

    name: str
    key: KeyPath
    values: list[Any] | None
    bounds: tuple[float, float] | None
    integer: bool


@dataclass(frozen=True)
class Sweep:
    path: Path
    meta: SweepMeta
    scenario_path: Path
    fixed: list[tuple[KeyPath, Any]]
    axes: list[AxisSpec]

    @property
    def name(self) -> str:
        return self.meta.name

    def design_matrix(self) -> np.ndarray | None:
        """The unit-free sample the sensitivity analysis needs (SALib designs), in design order."""
        meta, problem = self.meta, self.problem()
        if meta.design == "morris":
            from SALib.sample import morris

            return morris.sample(problem, meta.samples, num_levels=meta.morris_levels, seed=meta.seed)
        if meta.design == "saltelli":
            from SALib.sample import sobol

            return sobol.sample(problem, meta.samples, calc_second_order=False, seed=meta.seed)
        return None

    def problem(self) -> dict[str, Any]:
        """SALib's problem dict: parameter names and bounds."""
        return {
            "num_vars": len(self.axes),
            "names": [a.name for a in self.axes],
            "bounds": [list(a.bounds) for a in self.axes if a.bounds is not None],
        }

    def n_points(self) -> int:
        """How many design points :meth:`points` makes, without making them."""
        axes, meta = self.axes, self.meta
        if not axes:
            return 1
        if meta.design == "grid":
            return math.prod(len(a.values or []) for a in axes)
        if meta.design == "list":
            return len(axes[0].values or [])
        samples = meta.samples or 0
        if meta.design == "morris":
            return samples * (len(axes) + 1)
        if meta.design == "saltelli":
            return samples * (len(axes) + 2)
        return samples

    def points(self) -> list[dict[str, Any]]:
        """Parameter values of every design point, in a fixed order (the point index is stable)."""
        axes, meta = self.axes, self.meta
        if not axes:
            return [{}]
        if meta.design == "grid":
            grid = [a.values for a in axes]
            return [
                dict(zip([a.name for a in axes], combo, strict=True)) for combo in itertools.product(*grid)
            ]
        if meta.design == "list":
            n = len(axes[0].values or [])
            return [{a.name: (a.values or [])[i] for a in axes} for i in range(n)]
        if meta.design in SENSITIVITY:
            unit = self.design_matrix()
            assert unit is not None
            return [self._point(row) for row in unit]
        from scipy.stats import qmc

        engine = (
            qmc.LatinHypercube(d=len(axes), rng=meta.seed)
            if meta.design == "lhs"
            else qmc.Sobol(d=len(axes), scramble=True, rng=meta.seed)
        )
        lows = [a.bounds[0] for a in axes if a.bounds]
        highs = [a.bounds[1] for a in axes if a.bounds]
        sample = qmc.scale(engine.random(meta.samples or 0), lows, highs)
        return [self._point(row) for row in sample]

    def _point(self, row: np.ndarray) -> dict[str, Any]:
        return {
            a.name: (round(float(x)) if a.integer else float(x)) for a, x in zip(self.axes, row, strict=True)
        }


def _column_name(key: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").lower()
    return name if re.match(r"^[A-Za-z_]", name) else f"p_{name}"


def _normalise(values: list[Any], integer: bool) -> list[Any]:
    """Numbers of one axis share one type (a Parquet column has one), ints only if every value is."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != len(values):
        return values
    if integer:
        return [round(v) for v in values]
    if any(isinstance(v, float) for v in values):
        return [float(v) for v in values]
    return values


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file (not the scenarios it makes: see :mod:`agingsim.sweep.plan`)."""
    path = Path(path)
    raw = read_toml(path)
    file = validate_file(SweepFile, raw, path)
    meta = file.sweep
    errors: list[ScenarioError] = []

    def err(key: str, problem: str) -> None:
        errors.append(ScenarioError(path, key, problem))

    fixed: list[tuple[KeyPath, Any]] = []
    for key, value in file.fixed.items():
        try:
            fixed.append((parse_key(key), value))
        except ValueError as exc:
            err(f"set.{key}", str(exc))

    axes: list[AxisSpec] = []
    names: set[str] = set()
    for i, axis in enumerate(file.axes):
        where = f"axes[{i}]"
        try:
            key = parse_key(axis.key)
        except ValueError as exc:
            err(f"{where}.key", f"{axis.key!r}: {exc}")
            continue
        name = axis.name or _column_name(axis.key)
        if name in RESERVED or name in names:
            err(f"{where}.name", f"column name '{name}' is taken; give the axis another name")
        names.add(name)
        values, bounds = axis.values, axis.range
        if values is not None and bounds is not None:
            err(where, "give either values or range, not both")
            continue
        if values is None and bounds is None:
            err(where, "empty axis: give values = [...] or range = [low, high]")
            continue
        if values is not None and not values:
            err(f"{where}.values", "empty axis: give at least one value")
            continue
        if bounds is not None:
            if not bounds[0] < bounds[1]:
                err(f"{where}.range", f"low must be below high (got {list(bounds)})")
                continue
            if meta.design == "grid":
                if axis.steps is None:
                    err(f"{where}.steps", "a grid over a range needs steps = N (points from low to high)")
                    continue
                values = list(np.linspace(bounds[0], bounds[1], axis.steps).tolist())
            elif meta.design == "list":
                err(f"{where}.range", "design 'list' pairs values item by item; give values = [...]")
                continue
            elif axis.steps is not None:
                err(
                    f"{where}.steps",
                    f"steps is for grids; design '{meta.design}' draws {meta.samples} samples",
                )
        elif meta.design in SAMPLED:
            err(f"{where}.values", f"design '{meta.design}' samples a box: give range = [low, high]")
            continue
        if values is not None:
            values = _normalise(values, axis.integer)
        axes.append(AxisSpec(name, key, values, bounds, axis.integer))

    if meta.design in SAMPLED:
        if not file.axes:
            err("axes", f"design '{meta.design}' needs at least one axis with a range")
        if meta.samples is None:
            err("sweep.samples", f"design '{meta.design}' needs samples = N")
        elif meta.design in ("sobol", "saltelli") and meta.samples & (meta.samples - 1):
            err("sweep.samples", f"Sobol sequences need a power of two (got {meta.samples})")
    elif meta.samples is not None:
        err("sweep.samples", f"samples is for sampled designs ({', '.join(SAMPLED)}), not '{meta.design}'")
    if meta.design == "list" and axes:
        lengths = {a.name: len(a.values or []) for a in axes}
        if len(set(lengths.values())) > 1:
            err("axes", f"design 'list' needs axes of equal length; got {lengths}")
    if errors:
        raise ScenarioErrors(errors)
    planned = Sweep(path, meta, path, fixed, axes).n_points()
    if planned * meta.replications > MAX_RUNS:
        raise ScenarioError(
            path,
            "sweep",
            f"plans {planned * meta.replications:,} runs ({planned:,} points × {meta.replications:,} "
            f"replications); at most {MAX_RUNS:,}: use fewer values, samples or replications",
        )
    scenario_path = confine(path.parent / meta.scenario, path, "sweep.scenario")
    if not scenario_path.is_file():
        raise ScenarioError(path, "sweep.scenario", f"file not found: {meta.scenario}")
    return Sweep(path, meta, scenario_path, fixed, axes)
