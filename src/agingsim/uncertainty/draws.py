"""Parameter uncertainty: figures with a stated distribution, drawn once per replication.

Any figure of a scenario or of a file it uses may state its spread next to its value and label::

    rate_60 = { value = 0.0146, log_sd = 0.08, source = "fitted ...; log_sd from the fit's Jacobian" }
    price_elasticity = { value = -0.4, sd = 0.1, source = "..." }          # normal
    take_up = { value = 0.3, interval90 = [0.2, 0.4], assumption = "..." }  # normal, 90% interval

``log_sd`` is lognormal around the value (for rates and ratios, which must stay positive). Figures of
one file may be drawn jointly: a top-level ``[uncertainty.groups.NAME]`` table lists ``keys`` (figures
of that file with a spread) and their ``correlation`` matrix (labelled like any figure). Every other
figure with a spread is drawn on its own; figures without one are held at their value.

Why this shape: the code knows "a figure with a stated distribution", not ability models, so the
behaviour model's choice coefficients (take-up, price responses) are drawn by the same code as soon as
their files state spreads, provided the file kind is registered in :data:`agingsim.sweep.overrides.FILE_REFS`.

Draws are keyed by (run seed, replication, figure or group name), never by the order of the work, so
they are the same whatever the worker count, and the same replication of two compared arms draws the
same value for the same figure (common random numbers). Drawn values are applied through the sweep
machinery (:class:`agingsim.sweep.plan.Plan`), so each drawn scenario is validated and every drawn
figure is labelled in the run's assumptions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.rng import RandomStreams, purpose_key
from agingsim.scenario import Scenario
from agingsim.scenario.files import display_path, overlaid, read_toml, resolve_input
from agingsim.scenario.provenance import (
    PROVENANCE_KEYS,
    SPREAD_KEYS,
    UNCERTAINTY_TABLE,
    is_wrapped_figure,
)
from agingsim.sweep.overrides import FILE_FOLDERS, FILE_REFS, parse_key

#: z of the 95th percentile of the standard normal: a 90% interval is ±Z90 standard deviations.
Z90 = 1.6448536269514722
#: Name of the random stream of parameter draws (see :class:`agingsim.rng.RandomStreams`).
PURPOSE = "parameter-draws"


@dataclass(frozen=True)
class Stated:
    """One figure with a stated distribution."""

    kind: str  # "scenario" or a key of FILE_REFS ("region", "margins", "ability", …)
    key: str  # key inside its file, in sweep syntax: transitions[0].rate_60
    file: str  # the file, as shown in messages
    value: float
    distribution: Literal["normal", "lognormal"]
    scale: float  # sd (normal) or sd of the log (lognormal)
    label: str  # the figure's source or assumption (which must say where the spread comes from)

    @property
    def name(self) -> str:
        """The key as a sweep writes it: ``ability:transitions[0].rate_60``."""
        return self.key if self.kind == "scenario" else f"{self.kind}:{self.key}"

    def at(self, z: float) -> float:
        """The figure's value at standard-normal deviate ``z``."""
        if self.distribution == "lognormal":
            return float(self.value * math.exp(self.scale * z))
        return float(self.value + self.scale * z)

    def interval90(self) -> tuple[float, float]:
        return self.at(-Z90), self.at(Z90)


@dataclass(frozen=True)
class Group:
    """Figures of one file drawn jointly with a stated correlation."""

    kind: str
    name: str
    keys: tuple[str, ...]
    factor: np.ndarray  # F with F Fᵀ = correlation

    @property
    def stream(self) -> str:
        return f"{self.kind}:group:{self.name}"


@dataclass(frozen=True)
class Distributions:
    """Every stated distribution of a scenario's inputs."""

    figures: tuple[Stated, ...]
    groups: tuple[Group, ...]

    def __bool__(self) -> bool:
        return bool(self.figures)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    part = key if all(c.isalnum() or c in "_-" for c in key) else f'"{key}"'
    return f"{path}.{part}" if path else part


def _label(node: dict[str, Any]) -> str | None:
    for k in PROVENANCE_KEYS:
        if isinstance(node.get(k), str) and node[k].strip():
            return f"{k}: {node[k].strip()}"
    return None


def _stated(kind: str, shown: str, data: dict[str, Any]) -> tuple[list[Stated], list[ScenarioError]]:
    """Every wrapped figure with a spread in one file's parsed TOML (the uncertainty table excluded)."""
    found: list[Stated] = []
    errors: list[ScenarioError] = []

    def walk(node: Any, path: str, inherited: str | None) -> None:
        if is_wrapped_figure(node):
            spreads = [k for k in SPREAD_KEYS if k in node]
            if not spreads:
                return
            if len(spreads) > 1:
                problem = f"give one spread, not {' and '.join(sorted(spreads))}"
                errors.append(ScenarioError(shown, path, problem))
                return
            spread, value = spreads[0], node["value"]
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.append(ScenarioError(shown, path, f"{spread} needs a single number as value"))
                return
            label = _label(node) or inherited or ""
            try:
                dist, scale = _spread(spread, node[spread], float(value))
            except ValueError as exc:
                errors.append(ScenarioError(shown, f"{path}.{spread}", str(exc)))
                return
            found.append(Stated(kind, path, shown, float(value), dist, scale, label))
        elif isinstance(node, dict):
            here = _label(node) or inherited
            for k, v in node.items():
                if not (path == "" and k == UNCERTAINTY_TABLE):
                    walk(v, _join(path, k), here)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, _join(path, i), inherited)

    walk(data, "", None)
    return found, errors


def _spread(kind: str, spread: Any, value: float) -> tuple[Literal["normal", "lognormal"], float]:
    """(distribution, scale) of a stated spread; ValueError with the problem."""
    if kind == "interval90":
        if not (isinstance(spread, list) and len(spread) == 2 and all(_num(x) for x in spread)):
            raise ValueError("must be [p05, p95], two numbers")
        lo, hi = float(spread[0]), float(spread[1])
        if not lo <= value <= hi or lo == hi:
            raise ValueError(f"[{lo}, {hi}] must contain the value {value} and not be empty")
        return "normal", (hi - lo) / (2 * Z90)
    if not _num(spread) or spread <= 0:
        raise ValueError(f"must be a positive number (got {spread!r})")
    if kind == "log_sd" and value <= 0:
        raise ValueError(f"log_sd needs a positive value (got {value})")
    return ("lognormal" if kind == "log_sd" else "normal"), float(spread)


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _groups(
    kind: str, shown: str, data: dict[str, Any], stated: list[Stated]
) -> tuple[list[Group], list[ScenarioError]]:
    table = data.get(UNCERTAINTY_TABLE, {})
    groups: list[Group] = []
    errors: list[ScenarioError] = []
    if not isinstance(table, dict):
        return [], [ScenarioError(shown, UNCERTAINTY_TABLE, "must be a table")]
    unknown = set(table) - {"groups", *PROVENANCE_KEYS}
    if unknown:
        errors.append(ScenarioError(shown, UNCERTAINTY_TABLE, f"unknown key(s) {', '.join(sorted(unknown))}"))
    have = {s.key for s in stated}
    seen: set[str] = set()
    for name, g in (table.get("groups") or {}).items():
        where = f"{UNCERTAINTY_TABLE}.groups.{name}"
        keys = g.get("keys") if isinstance(g, dict) else None
        corr = g.get("correlation") if isinstance(g, dict) else None
        if not (isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys)):
            errors.append(ScenarioError(shown, f"{where}.keys", "must be a list of figure keys"))
            continue
        bad = [k for k in keys if k not in have]
        again = [k for k in keys if k in seen]
        if bad or again:
            problem = (
                f"{', '.join(bad)}: not a figure with a spread (sd, log_sd or interval90) in this file"
                if bad
                else f"{', '.join(again)}: already in another group"
            )
            errors.append(ScenarioError(shown, f"{where}.keys", problem))
            continue
        seen |= set(keys)
        try:
            matrix = np.array(corr, dtype=float)
        except (TypeError, ValueError):
            matrix = np.zeros(0)
        n = len(keys)
        if matrix.shape != (n, n):
            errors.append(ScenarioError(shown, f"{where}.correlation", f"must be a {n}×{n} matrix"))
            continue
        if not np.allclose(matrix, matrix.T, atol=1e-6) or not np.allclose(np.diag(matrix), 1.0):
            problem = "must be symmetric with 1 on the diagonal"
            errors.append(ScenarioError(shown, f"{where}.correlation", problem))
            continue
        w, v = np.linalg.eigh((matrix + matrix.T) / 2)
        if w.min() < -1e-3:  # matrices are written to 4 decimals
            problem = "is not a correlation matrix (not positive semi-definite)"
            errors.append(ScenarioError(shown, f"{where}.correlation", problem))
            continue
        # eigenvalues within rounding of zero are zero: eigh leaves ~1e-17 on a rank-one matrix, whose
        # square root (~3e-9) would let a perfectly correlated table's figures drift apart
        w = np.where(w > 1e-12 * max(float(w.max()), 1.0), w, 0.0)
        groups.append(Group(kind, str(name), tuple(keys), v * np.sqrt(w)))
    return groups, errors


def stated_distributions(scenario: Scenario) -> Distributions:
    """The figures with a stated distribution in ``scenario`` and every file it refers to.

    Reads the files as the scenario was loaded from them (on disk, or a variant's changed contents:
    a figure the app's levers set is the lever's, not drawn around the file's); raises
    ScenarioErrors naming each bad spread or group.
    """
    with overlaid(scenario.overlay):
        return _stated_distributions(scenario)


def _stated_distributions(scenario: Scenario) -> Distributions:
    sources: list[tuple[str, Path]] = [("scenario", scenario.path)]
    raw_scenario = read_toml(scenario.path)
    for kind, ref in FILE_REFS.items():
        name = str(raw_scenario.get("population", {}).get(ref, ""))
        if name:
            sources.append(
                (kind, resolve_input(name, FILE_FOLDERS[kind], scenario.path, f"population.{ref}"))
            )
    figures: list[Stated] = []
    groups: list[Group] = []
    errors: list[ScenarioError] = []
    for kind, path in sources:
        data = raw_scenario if kind == "scenario" else read_toml(path)
        shown = display_path(path)
        found, errs = _stated(kind, shown, data)
        grp, errs2 = _groups(kind, shown, data, found)
        figures += found
        groups += grp
        errors += errs + errs2
    if errors:
        raise ScenarioErrors(errors)
    return Distributions(tuple(figures), tuple(groups))


def draw(dists: Distributions, seed: int, replication: int) -> dict[str, float]:
    """Drawn value of every stated figure for one replication: ``{sweep key: value}``.

    Each group and each ungrouped figure has its own stream keyed by its name, so adding or removing
    one figure does not change the draws of the others.
    """
    streams = RandomStreams(seed, replication)
    z: dict[tuple[str, str], float] = {}
    for g in dists.groups:
        e = streams.generator(PURPOSE, purpose_key(g.stream)).standard_normal(len(g.keys))
        for key, value in zip(g.keys, g.factor @ e, strict=True):
            z[(g.kind, key)] = float(value)
    out: dict[str, float] = {}
    for s in dists.figures:
        if (s.kind, s.key) not in z:
            z[(s.kind, s.key)] = float(streams.generator(PURPOSE, purpose_key(s.name)).standard_normal())
        out[s.name] = s.at(z[(s.kind, s.key)])
    return out


def scenario_with(scenario: Scenario, values: dict[str, float], replication: int) -> Scenario:
    """``scenario`` with drawn ``values`` set, validated by the loader through the sweep machinery.

    The run settings of ``scenario`` (``--seed``, ``--years``) are kept.
    """
    if not values:
        return scenario
    from agingsim.sweep.plan import Plan
    from agingsim.sweep.spec import Sweep, SweepMeta

    meta = SweepMeta(name=f"parameter-draws-replication-{replication}", scenario=scenario.path.name)
    fixed = [(parse_key(k), v) for k, v in values.items()]
    sweep = Sweep(path=scenario.path, meta=meta, scenario_path=scenario.path, fixed=fixed, axes=[])
    with overlaid(scenario.overlay):  # a variant (the app's levers, an upload) is drawn on as it is
        plan = Plan(sweep)
        loaded = plan.load(plan.points[0])
    run = scenario.run
    loaded = loaded.with_run(
        start_year=run.start_year, seed=run.seed, years=run.years, simulated_people=run.simulated_people
    )
    return replace(loaded, path=scenario.path)
